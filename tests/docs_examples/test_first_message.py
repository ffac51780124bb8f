"""docs/tutorials/first-message.rst: a first message in five minutes, against the sandbox."""

from __future__ import annotations

import pytest

from tests.conftest import wait_for


@pytest.mark.django_db(transaction=True)
def test_first_message_reaches_read(live_server, organization, settings):
    # The tutorial's settings: PUBLIC_BASE_URL is where runserver listens (here, the test's live server).
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PUBLIC_BASE_URL": live_server.url}
    # [start-sandbox]
    from django_sinch_whatsapp.models import Bot
    from django_sinch_whatsapp.sandbox import SandboxServer

    # A real HTTP server on 127.0.0.1 that speaks Sinch's API and signs its callbacks.
    sandbox = SandboxServer(host="127.0.0.1", port=0).start()

    bot = Bot.objects.create(
        tenant=organization,  # a row of your TENANT_MODEL; by default a user (tenant=User.objects.get(...))
        name="Support",
        sinch_bot_id="support-bot",
        bearer_token="sandbox-token-0123456789",
        callback_key="signing-key-0123456789",
        region="us",
        base_url_override=sandbox.region_url("us"),  # instead of https://us1.whatsapp.api.sinch.com
    )
    # Tell the sandbox about the bot: the same id, token and key, and where to post its callbacks.
    print(bot.callback_url)  # PUBLIC_BASE_URL + /sinch-whatsapp/callbacks/<the bot's webhook id>/
    sandbox.register_bot(
        "support-bot",
        "sandbox-token-0123456789",
        region="us",
        callback_url=bot.callback_url,
        callback_key="signing-key-0123456789",
    )
    # [end-sandbox]
    try:
        # [start-send]
        from django_sinch_whatsapp import services
        from django_sinch_whatsapp.client import messages
        from django_sinch_whatsapp.models import InboundMessage, OutboundMessage

        # The customer writes first: that opens the 24-hour window for session messages.
        sandbox.inject_inbound("support-bot", "46732001122", text="Hi! Where is my order?")
        wait_for(lambda: InboundMessage.objects.filter(bot=bot).exists())

        services.send_message(bot, ["46732001122"], messages.text("It ships today."))

        # Delivery reports come back to the webhook, signed; the state only moves forward.
        message = OutboundMessage.objects.get(bot=bot)
        wait_for(lambda: OutboundMessage.objects.get(pk=message.pk).state == "read")
        message.refresh_from_db()
        print(message.state, [event.state for event in message.status_events.order_by("pk")])
        # read ['queued', 'dispatched', 'sent', 'delivered', 'read']
        # [end-send]
        assert bot.callback_url == f"{live_server.url}/sinch-whatsapp/callbacks/{bot.webhook_id}/"
        assert message.state == "read"
        assert [event.state for event in message.status_events.order_by("pk")] == [
            "queued",
            "dispatched",
            "sent",
            "delivered",
            "read",
        ]
    finally:
        sandbox.stop()
