"""A Conversation bot end to end over real HTTP both ways: API -> sandbox's Conversation wire -> signed
callbacks (x-sinch-webhook scheme) -> the bot's webhook on the live server."""

from __future__ import annotations

import pytest
import requests

from django_sinch_whatsapp import signals
from django_sinch_whatsapp.models import CallbackEvent, Contact, InboundMessage, OutboundMessage
from tests.conftest import wait_for
from tests.conversation_helpers import APP, PROJECT

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "46732001122"


def _send(live_server, bot, body):
    url = f"{live_server.url}/api/sinch-whatsapp/bots/{bot.pk}/send/"
    return requests.post(url, json=body, auth=("alice", "pw-alice"), timeout=20)


def _control(sandbox, route: str, body: dict) -> dict:
    """The sandbox's Conversation control API over HTTP, as a separate process (the demo) would call it."""
    response = requests.post(f"{sandbox.base_url}/_sandbox/conversation/{route}", json=body, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def _read_history(live_server, message_id):
    def settled():
        message = OutboundMessage.objects.get(pk=message_id)
        return message if message.state == "read" else None

    message = wait_for(settled, timeout=15)
    assert message is not None, OutboundMessage.objects.get(pk=message_id).state
    return message, list(message.status_events.order_by("received_at", "id").values_list("state", flat=True))


def test_a_text_sent_through_the_api_reaches_read_with_its_history(
    live_server, api_user, live_conversation_bot, fresh_sandbox
):
    response = _send(
        live_server, live_conversation_bot, {"to": ["+46 73-200 11 22"], "text": "Hello", "allow_outside_window": True}
    )
    assert response.status_code == 201, response.text
    [sent] = response.json()["messages"]
    assert sent["recipient"] == NUMBER and sent["sinch_message_id"]
    _message, history = _read_history(live_server, sent["id"])
    # queued at send; QUEUED_ON_CHANNEL -> dispatched; DELIVERED; READ: each a signed callback stored first.
    assert history == ["queued", "dispatched", "delivered", "read"], history
    assert CallbackEvent.objects.filter(bot=live_conversation_bot, signature_verdict="valid").count() == 3
    detail = requests.get(
        f"{live_server.url}/api/sinch-whatsapp/messages/{sent['id']}/", auth=("alice", "pw-alice"), timeout=10
    ).json()
    assert detail["state"] == "read" and [h["state"] for h in detail["history"]] == history


def test_a_read_without_delivered_settles_read_with_the_history_sinch_reported(
    live_server, api_user, live_conversation_bot, fresh_sandbox
):
    # WhatsApp on the Conversation API may report READ with no DELIVERED before it.
    _control(fresh_sandbox, "plan", {"statuses": ["QUEUED_ON_CHANNEL", "READ"]})
    response = _send(live_server, live_conversation_bot, {"to": [NUMBER], "text": "Hi", "allow_outside_window": True})
    assert response.status_code == 201, response.text
    [sent] = response.json()["messages"]
    message, history = _read_history(live_server, sent["id"])
    assert CallbackEvent.objects.filter(bot=live_conversation_bot, signature_verdict="valid").count() == 2
    # The history is what Sinch reported: no invented "delivered" row (READ implies it; the state says read).
    assert history == ["queued", "dispatched", "read"], history
    assert message.state == "read"


def test_an_inbound_message_reaches_the_webhook_is_stored_signalled_and_opens_the_window(
    live_server, api_user, live_conversation_bot, fresh_sandbox
):
    received = []

    def on_inbound(sender, **kwargs):
        received.append(kwargs)

    signals.inbound_message_received.connect(on_inbound)
    try:
        assert not Contact.objects.filter(bot=live_conversation_bot).exists()
        injected = _control(
            fresh_sandbox, "inbound", {"project_id": PROJECT, "app_id": APP, "from": "+" + NUMBER, "text": "Hi there"}
        )
        inbound = wait_for(lambda: InboundMessage.objects.filter(sinch_message_id=injected["message_id"]).first())
    finally:
        signals.inbound_message_received.disconnect(on_inbound)
    assert inbound is not None
    assert inbound.bot_id == live_conversation_bot.pk
    assert inbound.text == "Hi there" and inbound.from_e164 == "+" + NUMBER
    assert inbound.contact.window_open
    assert [kwargs["message"].pk for kwargs in received] == [inbound.pk]
    assert CallbackEvent.objects.get(bot=live_conversation_bot).signature_verdict == "valid"
    # The open window lets a session text go without allow_outside_window.
    response = _send(live_server, live_conversation_bot, {"to": [NUMBER], "text": "Thanks for writing"})
    assert response.status_code == 201, response.text
