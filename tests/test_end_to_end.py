"""The first path, end to end over real HTTP both ways: API -> sandbox -> signed callbacks -> webhook."""

from __future__ import annotations

import logging

import pytest
import requests

from django_sinch_whatsapp.models import CallbackEvent, InboundMessage, OutboundMessage

from .conftest import CALLBACK_KEY, TOKEN, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def send_via_api(live_server, bot, body, user=("alice", "pw-alice")):
    return requests.post(f"{live_server.url}/api/sinch-whatsapp/bots/{bot.pk}/send/", json=body, auth=user, timeout=20)


def test_text_sent_through_the_api_reaches_read_with_five_status_events(
    live_server, api_user, live_sandbox_bot, fresh_sandbox
):
    # The customer writes first: that opens the 24-hour window for a session text.
    inbound_id = fresh_sandbox.inject_inbound(live_sandbox_bot.sinch_bot_id, "46732001122", text="Hi, any news?")
    assert wait_for(lambda: InboundMessage.objects.filter(sinch_message_id=inbound_id).exists())
    response = send_via_api(live_server, live_sandbox_bot, {"to": ["+46 73-200 11 22"], "text": "Hello from the test"})
    assert response.status_code == 201, response.text
    [sent] = response.json()["messages"]
    assert sent["recipient"] == "46732001122"
    assert sent["sinch_message_id"]

    def settled():
        message = OutboundMessage.objects.get(pk=sent["id"])
        return message if message.state == "read" else None

    message = wait_for(settled, timeout=15)
    assert message is not None, OutboundMessage.objects.get(pk=sent["id"]).state
    history = list(message.status_events.order_by("received_at", "id").values_list("state", flat=True))
    assert sorted(history) == sorted(["queued", "dispatched", "sent", "delivered", "read"])
    assert len(history) == 5
    # Every delivery report came as a signed callback that was stored first.
    assert CallbackEvent.objects.filter(bot=live_sandbox_bot, signature_verdict="valid").count() >= 5
    # The API shows the same.
    detail = requests.get(
        f"{live_server.url}/api/sinch-whatsapp/messages/{sent['id']}/", auth=("alice", "pw-alice"), timeout=10
    ).json()
    assert detail["state"] == "read" and len(detail["history"]) == 5


def test_inbound_text_from_the_sandbox_is_stored(live_server, live_sandbox_bot, fresh_sandbox):
    message_id = fresh_sandbox.inject_inbound(live_sandbox_bot.sinch_bot_id, "46732001122", text="Hi business")
    inbound = wait_for(lambda: InboundMessage.objects.filter(sinch_message_id=message_id).first())
    assert inbound is not None
    assert inbound.text == "Hi business" and inbound.from_e164 == "+46732001122"
    assert inbound.contact.window_open


def test_wrong_token_shows_sinch_401_in_api_and_row(live_server, api_user, make_bot, fresh_sandbox, caplog):
    bot = make_bot(base_url_override=fresh_sandbox.region_url("us"), bearer_token="a-wrong-token-999")
    fresh_sandbox.register_bot(bot.sinch_bot_id, TOKEN, region="us", callback_key=CALLBACK_KEY)
    with caplog.at_level(logging.DEBUG, logger="django_sinch_whatsapp"):
        response = send_via_api(
            live_server, bot, {"to": ["46732001122"], "text": "Hello", "allow_outside_window": True}
        )
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "sinch_unauthorized" and error["sinch_status"] == 401
    assert error["message"] and error["details"]
    assert "region" in error["hint"]
    row = OutboundMessage.objects.get(bot=bot)
    assert row.state == "error" and row.error_status_code == 401
    assert (row.error_message, row.error_details) == (error["message"], error["details"])
    assert "a-wrong-token-999" not in response.text
    assert "a-wrong-token-999" not in caplog.text


def test_bot_in_the_wrong_region_gets_401_saying_so(live_server, api_user, make_bot, fresh_sandbox):
    bot = make_bot(region="eu")
    fresh_sandbox.register_bot(bot.sinch_bot_id, TOKEN, region="us", callback_key=CALLBACK_KEY)
    regions = {"us": fresh_sandbox.region_url("us"), "eu": fresh_sandbox.region_url("eu")}
    from django.conf import settings
    from django.test import override_settings

    with override_settings(SINCH_WHATSAPP={**settings.SINCH_WHATSAPP, "REGION_BASE_URLS": regions}):
        response = send_via_api(
            live_server, bot, {"to": ["46732001122"], "text": "Hello", "allow_outside_window": True}
        )
    assert response.status_code == 502
    assert response.json()["error"]["sinch_status"] == 401
    assert "region" in (response.json()["error"]["details"] + response.json()["error"]["hint"]).lower()
