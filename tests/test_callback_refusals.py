"""Issue 7 items 3 and 4, issue 8 item 5: refusals leave a bounded trace; raw callbacks are not
deleted in the admin; a callback signed for one bot cannot be replayed into another that shares its key."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from django_sinch_whatsapp.callbacks import refusals
from django_sinch_whatsapp.callbacks.verification import key_fingerprint
from django_sinch_whatsapp.models import CallbackEvent, CallbackRefusalStats, InboundMessage, StatusEvent

from .conftest import CALLBACK_KEY
from .webhook_helpers import inbound_text_payload, signed_headers, status_payload

pytestmark = pytest.mark.django_db

SECRET_LOOKING_BODY = json.dumps({"statuses": [{"message_id": "forged-body-marker", "state": "read"}]}).encode()


@pytest.fixture(autouse=True)
def fresh_refusal_counters():
    refusals.reset_for_tests()
    yield
    refusals.reset_for_tests()


def forge(client, bot, body: bytes = SECRET_LOOKING_BODY):
    headers = signed_headers(body, key="not-the-key")
    return client.post(bot.callback_path, data=body, content_type="application/json", **headers)


def test_refusals_are_counted_with_reason_and_address_never_the_body(client, bot):
    assert forge(client, bot).status_code == 403
    stats = CallbackRefusalStats.objects.get(bot=bot)
    assert stats.count == 1 and stats.last_remote_addr == "127.0.0.1"
    assert "does not match" in stats.last_reason
    assert "forged-body-marker" not in json.dumps(
        {f.name: str(getattr(stats, f.attname)) for f in CallbackRefusalStats._meta.concrete_fields}
    )
    assert CallbackEvent.objects.count() == 0


def test_a_flood_writes_at_most_once_a_second(client, bot, monkeypatch):
    forge(client, bot)
    table = CallbackRefusalStats._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):
            assert forge(client, bot).status_code == 403
    assert not [q for q in queries if table in q["sql"]], "refusals inside the second must not touch the database"
    assert CallbackRefusalStats.objects.get(bot=bot).count == 1
    # A second later (INTERVAL shortened here), the pending count is written in one statement.
    monkeypatch.setattr(refusals, "INTERVAL", 0.0)
    with CaptureQueriesContext(connection) as queries:
        forge(client, bot)
    assert len([q for q in queries if table in q["sql"]]) == 1
    assert CallbackRefusalStats.objects.get(bot=bot).count == 52


def test_every_kind_of_refusal_is_recorded(client, bot, settings):
    body = json.dumps(status_payload("m", "sent")).encode()
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "MAX_CALLBACK_BODY_BYTES": 10}
    assert client.post(bot.callback_path, data=body, content_type="application/json").status_code == 400
    assert "MAX_CALLBACK_BODY_BYTES" in CallbackRefusalStats.objects.get(bot=bot).last_reason


def test_refusals_show_on_the_bot_admin_page_and_in_the_api(client, admin_client, bot, api_user):
    forge(client, bot)
    page = admin_client.get(f"/admin/sinch_whatsapp/bot/{bot.pk}/change/")
    assert page.status_code == 200
    assert "1 refused; last" in page.content.decode() and "does not match" in page.content.decode()
    api = APIClient()
    api.force_authenticate(api_user)
    shown = api.get(f"/api/sinch-whatsapp/bots/{bot.pk}/").json()["refused_callbacks"]
    assert shown["count"] == 1 and "does not match" in shown["last_reason"]
    assert shown["last_remote_addr"] == "127.0.0.1"
    listed = api.get("/api/sinch-whatsapp/bots/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows[0]["refused_callbacks"]["count"] == 1


def test_a_bot_without_refusals_says_so(admin_client, bot, api_user):
    assert "None refused." in admin_client.get(f"/admin/sinch_whatsapp/bot/{bot.pk}/change/").content.decode()
    api = APIClient()
    api.force_authenticate(api_user)
    assert api.get(f"/api/sinch-whatsapp/bots/{bot.pk}/").json()["refused_callbacks"] is None


def test_raw_callbacks_cannot_be_deleted_in_the_admin(client, admin_client, bot):
    body = json.dumps(status_payload("m", "sent")).encode()
    client.post(bot.callback_path, data=body, content_type="application/json", **signed_headers(body))
    event = CallbackEvent.objects.get()
    assert admin_client.get(f"/admin/sinch_whatsapp/callbackevent/{event.pk}/delete/").status_code == 403
    changelist = admin_client.get("/admin/sinch_whatsapp/callbackevent/")
    assert "delete_selected" not in changelist.content.decode()
    admin_client.post(
        "/admin/sinch_whatsapp/callbackevent/", {"action": "delete_selected", "_selected_action": [str(event.pk)]}
    )
    assert CallbackEvent.objects.filter(pk=event.pk).exists()


# --- issue 8 item 5: cross-bot replay --------------------------------------------------------------


@pytest.fixture
def two_bots_one_key(make_bot, other_organization):
    mine = make_bot(sinch_bot_id="bot-a", name="A")
    theirs = make_bot(sinch_bot_id="bot-b", name="B", tenant=other_organization)
    return mine, theirs


def test_a_notification_addressed_to_another_bot_with_the_same_key_is_refused(client, two_bots_one_key):
    bot_a, bot_b = two_bots_one_key
    payload = inbound_text_payload("in-for-a")
    payload["notifications"][0]["to"] = bot_a.sinch_bot_id
    body = json.dumps(payload).encode()
    headers = signed_headers(body)
    refused = client.post(bot_b.callback_path, data=body, content_type="application/json", **headers)
    assert refused.status_code == 403 and "another bot" in refused.json()["detail"]
    assert not CallbackEvent.objects.filter(bot=bot_b).exists() and not InboundMessage.objects.exists()
    assert CallbackRefusalStats.objects.get(bot=bot_b).count == 1
    accepted = client.post(bot_a.callback_path, data=body, content_type="application/json", **headers)
    assert accepted.status_code == 200
    assert InboundMessage.objects.get().bot == bot_a


def test_a_replay_of_another_bots_callback_is_refused_not_stored(client, two_bots_one_key):
    bot_a, bot_b = two_bots_one_key
    body = json.dumps(status_payload("status-for-a", "delivered")).encode()
    headers = signed_headers(body, nonce="nonce-of-a")
    assert client.post(bot_a.callback_path, data=body, content_type="application/json", **headers).status_code == 200
    replay = client.post(bot_b.callback_path, data=body, content_type="application/json", **headers)
    assert replay.status_code == 403 and "another bot" in replay.json()["detail"]
    assert list(CallbackEvent.objects.values_list("bot", flat=True)) == [bot_a.pk]
    assert list(StatusEvent.objects.values_list("bot", flat=True)) == [bot_a.pk]


def test_nonces_are_unique_per_signing_key_not_per_bot(client, make_bot):
    bot_a = make_bot(sinch_bot_id="bot-a", callback_key="key-of-a")
    bot_b = make_bot(sinch_bot_id="bot-b", callback_key="key-of-b")
    body = json.dumps(status_payload("m", "sent")).encode()
    for bot, key in ((bot_a, "key-of-a"), (bot_b, "key-of-b")):
        headers = signed_headers(body, key=key, nonce="same-nonce")
        assert client.post(bot.callback_path, data=body, content_type="application/json", **headers).status_code == 200
    rows = list(CallbackEvent.objects.order_by("bot_id"))
    assert [r.bot_id for r in rows] == [bot_a.pk, bot_b.pk]
    assert rows[0].key_fingerprint == key_fingerprint("key-of-a") != rows[1].key_fingerprint
    assert "key-of-a" not in rows[0].key_fingerprint and len(rows[0].key_fingerprint) == 64


def test_key_rotation_keeps_replays_of_the_previous_key_detected(client, make_bot):
    bot = make_bot(callback_key="new-key", previous_callback_key=CALLBACK_KEY)
    body = json.dumps(status_payload("m", "sent")).encode()
    headers = signed_headers(body, key=CALLBACK_KEY, nonce="n-rot")
    assert client.post(bot.callback_path, data=body, content_type="application/json", **headers).status_code == 200
    again = client.post(bot.callback_path, data=body, content_type="application/json", **headers)
    assert again.json()["detail"] == "Already received."
    assert CallbackEvent.objects.get().key_fingerprint == key_fingerprint(CALLBACK_KEY)


def test_reports_for_another_bots_messages_signed_with_its_shared_key_are_refused(client, two_bots_one_key):
    """Statuses name no bot: their message ids do. Posted to B first, A's reports must not be stored
    under B (nor then block A's own delivery as a "replay")."""
    from django_sinch_whatsapp.models import OutboundMessage

    bot_a, bot_b = two_bots_one_key
    message = OutboundMessage.objects.create(
        bot=bot_a, recipient="46732001122", message_type="text", payload={}, sinch_message_id="msg-of-a"
    )
    body = json.dumps(status_payload("msg-of-a", "delivered")).encode()
    headers = signed_headers(body, nonce="first-at-b")
    refused = client.post(bot_b.callback_path, data=body, content_type="application/json", **headers)
    assert refused.status_code == 403 and "another bot ('bot-a')" in refused.json()["detail"]
    assert not CallbackEvent.objects.exists() and not StatusEvent.objects.exists()
    assert CallbackRefusalStats.objects.get(bot=bot_b).count == 1
    accepted = client.post(bot_a.callback_path, data=body, content_type="application/json", **headers)
    assert accepted.status_code == 200
    message.refresh_from_db()
    assert message.state == "delivered"


def test_reports_for_a_bot_with_another_key_stay_orphans_of_this_bot(client, make_bot, bot):
    from django_sinch_whatsapp.models import OutboundMessage

    other = make_bot(sinch_bot_id="elsewhere", callback_key="a-different-key")
    OutboundMessage.objects.create(
        bot=other, recipient="46732001122", message_type="text", payload={}, sinch_message_id="same-id"
    )
    body = json.dumps(status_payload("same-id", "delivered")).encode()
    response = client.post(bot.callback_path, data=body, content_type="application/json", **signed_headers(body))
    assert response.status_code == 200
    assert StatusEvent.objects.get().bot == bot and StatusEvent.objects.get().message is None
