"""Conversation bots above the seam: sending through the services reaches the sandbox's Conversation wire."""

from __future__ import annotations

import copy

import pytest

from django_sinch_whatsapp import services
from django_sinch_whatsapp.exceptions import MessageValidationError
from django_sinch_whatsapp.models import MessageState, OutboundMessage
from tests import message_samples as samples
from tests.conversation_helpers import APP, PROJECT

pytestmark = pytest.mark.django_db(transaction=True)

NUMBERS = ["46732001122", "46732001123", "46732001124"]


def test_n_recipients_are_n_requests_in_order_with_row_ids_as_correlation_ids(conversation_bot, fresh_sandbox):
    outcome = services.send_text(conversation_bot, NUMBERS, "Hello", allow_outside_window=True)
    assert outcome.accepted == 3 and outcome.sent == 3, outcome.errors
    sent = [e for e in fresh_sandbox.requests_log if e["path"].endswith("/messages:send")]
    assert len(sent) == 3
    rows = list(OutboundMessage.objects.filter(send_id=outcome.send_id).order_by("created_at", "recipient"))
    assert [e["body"]["recipient"]["identified_by"]["channel_identities"][0]["identity"] for e in sent] == NUMBERS
    assert [e["body"]["correlation_id"] for e in sent] == [str(r.pk) for r in rows]
    assert all(e["body"]["app_id"] == APP and f"/projects/{PROJECT}/" in e["path"] for e in sent)
    assert all(r.sinch_message_id and r.state == MessageState.QUEUED for r in rows)


def test_a_legacy_bot_still_sends_one_request_for_many(sandbox_bot, fresh_sandbox):
    outcome = services.send_text(sandbox_bot, NUMBERS, "Hello", allow_outside_window=True)
    assert outcome.sent == 3
    assert fresh_sandbox.count("POST", "/messages") == 1


CARRIED = [name for name in samples.SAMPLES if name not in ("sticker", "video")]


@pytest.mark.filterwarnings("ignore:template ttl is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", CARRIED)
def test_every_carried_message_type_is_accepted_by_the_conversation_sandbox(conversation_bot, fresh_sandbox, name):
    message = copy.deepcopy(samples.SAMPLES[name])
    outcome = services.send_message(conversation_bot, NUMBERS[0], message, allow_outside_window=True)
    assert outcome.sent == 1, outcome.errors
    (row,) = outcome.messages
    assert row.sinch_message_id and row.state == MessageState.QUEUED


def test_a_message_the_transport_cannot_carry_is_refused_before_any_row(conversation_bot, fresh_sandbox):
    with pytest.raises(MessageValidationError, match="sticker"):
        services.send_message(conversation_bot, NUMBERS[0], samples.SAMPLES["sticker"], allow_outside_window=True)
    assert not OutboundMessage.objects.exists()
    assert not [e for e in fresh_sandbox.requests_log if e["path"].endswith("/messages:send")]
