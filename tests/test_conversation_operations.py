"""Operations on one message of a Conversation bot, through its transport: mark read, reconciliation;
and what the transport lacks (groups) refused by name. Capability and consent: test_conversation_contacts.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from rest_framework.test import APIClient

from django_sinch_whatsapp import services
from django_sinch_whatsapp.models import InboundMessage, MessageState, OutboundMessage
from django_sinch_whatsapp.services.reconciliation import reconcile
from django_sinch_whatsapp.transports.errors import FeatureNotSupported
from tests.conftest import wait_for
from tests.conversation_helpers import APP, PROJECT

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "46732001122"


def _inject(sandbox, text="Hi"):
    response = requests.post(
        f"{sandbox.base_url}/_sandbox/conversation/inbound",
        json={"project_id": PROJECT, "app_id": APP, "from": NUMBER, "text": text},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    message_id = response.json()["message_id"]
    inbound = wait_for(lambda: InboundMessage.objects.filter(sinch_message_id=message_id).first())
    assert inbound is not None
    return inbound


def _read_events(sandbox):
    return [e["body"] for e in sandbox.requests_log if e["path"].endswith("/events:send")]


def test_mark_read_sends_a_read_message_event_to_the_sender(live_conversation_bot, fresh_sandbox):
    inbound = _inject(fresh_sandbox)
    services.mark_read(inbound)
    inbound.refresh_from_db()
    assert inbound.read_at is not None
    [event] = _read_events(fresh_sandbox)
    assert event["event"] == {"read_message_event": {"message_id": inbound.sinch_message_id}}
    assert event["recipient"]["identified_by"]["channel_identities"][0]["identity"] == NUMBER
    assert event["app_id"] == APP
    with fresh_sandbox.conversation.state.lock:
        assert fresh_sandbox.conversation.state.inbound[inbound.sinch_message_id]["read"] is True
    services.mark_read(inbound)  # already read: no second call
    assert len(_read_events(fresh_sandbox)) == 1


def test_the_apis_mark_read_works_for_a_conversation_bot(api_user, live_conversation_bot, fresh_sandbox):
    inbound = _inject(fresh_sandbox)
    api = APIClient()
    api.force_authenticate(api_user)
    response = api.post(f"/api/sinch-whatsapp/inbound/{inbound.pk}/mark-read/")
    assert response.status_code == 200, response.content
    assert response.json()["read_at"]
    assert len(_read_events(fresh_sandbox)) == 1


def test_auto_mark_read_marks_a_conversation_inbound_read(live_conversation_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "AUTO_MARK_READ": True}
    inbound = _inject(fresh_sandbox)
    assert wait_for(lambda: InboundMessage.objects.get(pk=inbound.pk).read_at)
    assert [e["event"]["read_message_event"]["message_id"] for e in _read_events(fresh_sandbox)] == [
        inbound.sinch_message_id
    ]


def test_reconciliation_asks_get_messages_and_settles_an_unknown_row(conversation_bot, fresh_sandbox):
    outcome = services.send_text(conversation_bot, [NUMBER], "Hello", allow_outside_window=True)
    (row,) = outcome.messages
    assert row.sinch_message_id
    # As if the answer to messages:send had been lost after Sinch took the message.
    old = timezone.now() - timedelta(hours=1)
    OutboundMessage.objects.filter(pk=row.pk).update(state=MessageState.UNKNOWN, created_at=old)
    report = reconcile(older_than=timedelta(minutes=15))
    assert report.errors == [] and report.checked == 1 and report.changed == 1
    row.refresh_from_db()
    assert row.state == MessageState.QUEUED
    lookups = [e for e in fresh_sandbox.requests_log if e["method"] == "GET" and "/messages/" in e["path"]]
    assert [e["path"].rsplit("/", 1)[-1] for e in lookups] == [row.sinch_message_id]
    # A row already past queued learns nothing newer and is not moved back.
    OutboundMessage.objects.filter(pk=row.pk).update(state=MessageState.DISPATCHED)
    again = reconcile(older_than=timedelta(minutes=15))
    assert again.checked == 1 and again.changed == 0 and again.errors == []
    row.refresh_from_db()
    assert row.state == MessageState.DISPATCHED


def test_reconciliation_reports_a_message_sinch_does_not_know(conversation_bot, fresh_sandbox):
    row = OutboundMessage.objects.create(
        bot=conversation_bot,
        recipient=NUMBER,
        message_type="text",
        payload={},
        sinch_message_id="NOT-AT-SINCH",
        state=MessageState.QUEUED,
    )
    OutboundMessage.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(hours=1))
    report = reconcile(older_than=timedelta(minutes=15))
    assert len(report.errors) == 1 and str(row.pk) in report.errors[0] and "404" in report.errors[0]
    row.refresh_from_db()
    assert row.state == MessageState.QUEUED


@pytest.mark.parametrize("to", [["group:abc123"], [NUMBER, "group:abc123"], "group:abc123"])
def test_a_group_recipient_on_a_conversation_bot_is_refused_by_name_before_any_row(
    conversation_bot, fresh_sandbox, settings, to
):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "ALLOW_GROUP_RECIPIENTS": True}
    with pytest.raises(FeatureNotSupported, match="groups is not available on the 'conversation' transport"):
        services.send_text(conversation_bot, to, "Hello", allow_outside_window=True)
    assert not OutboundMessage.objects.exists()


def test_a_group_recipient_from_a_generator_is_refused_too(conversation_bot, fresh_sandbox):
    with pytest.raises(FeatureNotSupported, match="groups"):
        services.send_text(conversation_bot, iter(["group:abc123"]), "Hello", allow_outside_window=True)
    assert not OutboundMessage.objects.exists()


def test_the_api_answers_400_for_a_group_on_a_conversation_bot(api_user, conversation_bot, fresh_sandbox):
    api = APIClient()
    api.force_authenticate(api_user)
    response = api.post(
        f"/api/sinch-whatsapp/bots/{conversation_bot.pk}/send/",
        {"to": ["group:abc123"], "text": "Hi", "allow_outside_window": True},
        format="json",
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["feature"] == "groups" and error["transport"] == "conversation"
