"""The first path, end to end over real HTTP both ways: API -> sandbox -> signed callbacks -> webhook.

Once per transport (``kit``): the standalone API, and the Conversation API's wire with its
``x-sinch-webhook-signature`` callbacks.
"""

from __future__ import annotations

import logging

import pytest
import requests

from django_sinch_whatsapp import signals
from django_sinch_whatsapp.models import CallbackEvent, Contact, InboundMessage, OutboundMessage

from .conftest import CALLBACK_KEY, TOKEN, wait_for
from .conversation_helpers import conversation_bot_values
from .transport_kits import wrong_credentials_bot

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "46732001122"


def send_via_api(live_server, bot, body, user=("alice", "pw-alice")):
    return requests.post(f"{live_server.url}/api/sinch-whatsapp/bots/{bot.pk}/send/", json=body, auth=user, timeout=20)


def test_text_sent_through_the_api_reaches_read_with_its_history(
    kit, live_server, api_user, live_any_transport_bot, fresh_sandbox
):
    bot = live_any_transport_bot
    # The customer writes first: that opens the 24-hour window for a session text.
    inbound_id = kit.inject_inbound(fresh_sandbox, bot, NUMBER, "Hi, any news?")
    assert wait_for(lambda: InboundMessage.objects.filter(sinch_message_id=inbound_id).exists())
    response = send_via_api(live_server, bot, {"to": ["+46 73-200 11 22"], "text": "Hello from the test"})
    assert response.status_code == 201, response.text
    [sent] = response.json()["messages"]
    assert sent["recipient"] == NUMBER
    assert sent["sinch_message_id"]

    def settled():
        message = OutboundMessage.objects.get(pk=sent["id"])
        return message if message.state == "read" else None

    message = wait_for(settled, timeout=15)
    assert message is not None, OutboundMessage.objects.get(pk=sent["id"]).state
    history = list(message.status_events.order_by("received_at", "id").values_list("state", flat=True))
    # Standalone: queued, dispatched, sent, delivered, read. Conversation: queued at the send, then
    # QUEUED_ON_CHANNEL -> dispatched, DELIVERED, READ (it has no "sent").
    assert sorted(history) == sorted(kit.read_history) and len(history) == len(kit.read_history)
    # Every delivery report came as a signed callback that was stored first (and the inbound one).
    reports = len(kit.read_history) - (0 if kit.name == "whatsapp" else 1)
    assert CallbackEvent.objects.filter(bot=bot, signature_verdict="valid").count() >= reports + 1
    # The API shows the same.
    detail = requests.get(
        f"{live_server.url}/api/sinch-whatsapp/messages/{sent['id']}/", auth=("alice", "pw-alice"), timeout=10
    ).json()
    assert detail["state"] == "read" and sorted(h["state"] for h in detail["history"]) == sorted(history)


def test_an_inbound_text_is_stored_signalled_and_opens_the_window(
    kit, live_server, api_user, live_any_transport_bot, fresh_sandbox
):
    bot = live_any_transport_bot
    received = []

    def on_inbound(sender, **kwargs):
        received.append(kwargs)

    signals.inbound_message_received.connect(on_inbound, dispatch_uid="e2e")
    try:
        assert not Contact.objects.filter(bot=bot).exists()
        message_id = kit.inject_inbound(fresh_sandbox, bot, NUMBER, "Hi business")
        inbound = wait_for(lambda: InboundMessage.objects.filter(sinch_message_id=message_id).first())
    finally:
        signals.inbound_message_received.disconnect(dispatch_uid="e2e")
    assert inbound is not None and inbound.bot_id == bot.pk
    assert inbound.text == "Hi business" and inbound.from_e164 == "+" + NUMBER
    assert inbound.contact.window_open
    assert [kwargs["message"].pk for kwargs in received] == [inbound.pk]
    assert CallbackEvent.objects.get(bot=bot).signature_verdict == "valid"
    # The open window lets a session text go without allow_outside_window.
    response = send_via_api(live_server, bot, {"to": [NUMBER], "text": "Thanks for writing"})
    assert response.status_code == 201, response.text


def test_wrong_credentials_show_sinchs_401_in_api_and_row(kit, live_server, api_user, make_bot, fresh_sandbox, caplog):
    wrong = "a-wrong-secret-999"
    bot = wrong_credentials_bot(kit, make_bot, fresh_sandbox, wrong)
    with caplog.at_level(logging.DEBUG, logger="django_sinch_whatsapp"):
        response = send_via_api(live_server, bot, {"to": [NUMBER], "text": "Hello", "allow_outside_window": True})
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "sinch_unauthorized" and error["sinch_status"] == 401
    assert error["message"] and error["details"]
    # Standalone: a wrong token or the other region's host; Conversation: the access key id and secret.
    assert ("region" if kit.name == "whatsapp" else "access key") in error["hint"]
    row = OutboundMessage.objects.get(bot=bot)
    assert row.state == "error" and row.error_status_code == 401
    assert (row.error_message, row.error_details) == (error["message"], error["details"])
    assert wrong not in response.text and wrong not in caplog.text


def test_a_bot_in_the_wrong_region_gets_sinchs_answer_saying_so(
    kit, live_server, api_user, make_bot, fresh_sandbox, request
):
    from django.conf import settings
    from django.test import override_settings

    if kit.name == "whatsapp":
        # whatsapp-introduction.md: the other region's host answers 401.
        bot = make_bot(region="eu")
        fresh_sandbox.register_bot(bot.sinch_bot_id, TOKEN, region="us", callback_key=CALLBACK_KEY)
        regions = {"us": fresh_sandbox.region_url("us"), "eu": fresh_sandbox.region_url("eu")}
        overrides = {"REGION_BASE_URLS": regions}
        expected_status = 401
    else:
        # docs README, "Regions": the app lives in us; the eu host answers 404.
        request.getfixturevalue("conversation_app")
        regions = {region: fresh_sandbox.conversation.url(region) for region in ("us", "eu", "br")}
        bot = make_bot(**conversation_bot_values(fresh_sandbox, conversation_region="eu", base_url_override=""))
        overrides = {"CONVERSATION_REGION_BASE_URLS": regions, "CONVERSATION_AUTH_URL": regions["eu"] + "/oauth2/token"}
        expected_status = 404
    with override_settings(SINCH_WHATSAPP={**settings.SINCH_WHATSAPP, **overrides}):
        response = send_via_api(live_server, bot, {"to": [NUMBER], "text": "Hello", "allow_outside_window": True})
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["sinch_status"] == expected_status
    assert "region" in (error["details"] + error["hint"]).lower()
    assert OutboundMessage.objects.get(bot=bot).error_status_code == expected_status
