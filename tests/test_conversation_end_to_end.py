"""A Conversation bot end to end over real HTTP both ways: API -> sandbox's Conversation wire -> signed
callbacks (x-sinch-webhook scheme) -> the bot's webhook on the live server.

What holds for both transports (a text reaching ``read``, an inbound message) is in test_end_to_end.py,
once per transport; this file keeps what only the Conversation API does."""

from __future__ import annotations

import pytest
import requests

from django_sinch_whatsapp.models import CallbackEvent, OutboundMessage
from tests.conftest import wait_for

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
