"""docs/tutorials/receiving.rst: react to inbound messages with a signal, reply inside the window."""

from __future__ import annotations

import pytest

from tests.conftest import wait_for


@pytest.mark.django_db(transaction=True)
def test_auto_reply_inside_the_window(live_sandbox_bot, fresh_sandbox):
    bot, sandbox = live_sandbox_bot, fresh_sandbox
    # [start-receiver]
    from django.db import transaction
    from django.dispatch import receiver

    from django_sinch_whatsapp import services, signals

    @receiver(signals.inbound_message_received)
    def thank_the_customer(sender, message, event, message_type, **kwargs):
        if message_type != "text":
            return

        def reply():
            # This very message opened the 24-hour window, so a session text may go.
            services.send_text(message.bot, [message.from_number], "Thanks, a person will answer soon.")

        # Receivers run inside the callback's transaction: send once it has committed,
        # so a failure to send never rolls the stored callback back.
        transaction.on_commit(reply)

    # [end-receiver]
    try:
        sandbox.inject_inbound(bot.sinch_bot_id, "46732001122", text="Hello?")
        sent = wait_for(lambda: list(bot.outbound_messages.all()))
        assert len(sent) == 1 and sent[0].payload["text"].startswith("Thanks")
        assert sent[0].recipient == "46732001122"
        # The sandbox's delivery reports for the reply end with "read": let them land before teardown.
        assert wait_for(lambda: bot.outbound_messages.get().state == "read")
    finally:
        signals.inbound_message_received.disconnect(thank_the_customer)


def test_fault_injection_makes_a_send_record_sinchs_error(sandbox_bot, fresh_sandbox, transactional_db):
    bot = sandbox_bot
    # [start-faults]
    from django_sinch_whatsapp import services
    from django_sinch_whatsapp.client import messages

    # The next POST /messages answers 400 with Sinch's JSON error body.
    fresh_sandbox.faults.fail_next(1, status=400, path_contains="/messages")
    services.send_message(bot, ["46732001122"], messages.template("order_update", language="en", body_params=["4711"]))

    message = bot.outbound_messages.get()
    print(message.state, message.error_status_code)
    # error 400
    # [end-faults]
    assert message.state == "error" and message.error_status_code == 400


@pytest.mark.django_db(transaction=True)
def test_the_window_decides_what_may_be_sent(live_sandbox_bot, fresh_sandbox, api_user):
    from datetime import timedelta

    bot, sandbox = live_sandbox_bot, fresh_sandbox
    sandbox.inject_inbound(bot.sinch_bot_id, "46732001122", text="Is my order on its way?")
    assert wait_for(lambda: bot.inbound_messages.exists())
    # [start-window]
    from django_sinch_whatsapp import services
    from django_sinch_whatsapp.models import Contact, InboundMessage

    message = InboundMessage.objects.filter(bot=bot).latest("received_at")
    print(message.from_e164, message.message_type, message.text)  # +46732001122 text Is my order on its way?

    contact = Contact.objects.get(bot=bot, number="+46732001122")  # made by the inbound message
    print(contact.window_open, contact.window_ends_at - contact.last_inbound_at)  # True 1 day, 0:00:00

    services.send_text(bot, [contact.number], "Yes: it left our warehouse this morning.")
    # [end-window]
    assert contact.window_open and contact.window_ends_at - contact.last_inbound_at == timedelta(hours=24)
    assert wait_for(lambda: bot.outbound_messages.filter(state="read").count() == 1)
    # A day and a bit later: the contact has not written again.
    Contact.objects.filter(pk=contact.pk).update(last_inbound_at=contact.last_inbound_at - timedelta(hours=25))
    # [start-closed]
    from django_sinch_whatsapp.client import messages
    from django_sinch_whatsapp.exceptions import OutsideCustomerCareWindow

    try:
        services.send_text(bot, ["+46732001122"], "Anything else?")
    except OutsideCustomerCareWindow as err:
        print(err.numbers)  # ['+46732001122']: nothing was recorded or sent

    # Outside the window only a template (approved by WhatsApp) may start the conversation again.
    services.send_message(bot, ["+46732001122"], messages.template("order_delivered", language="en"))
    # [end-closed]
    assert bot.outbound_messages.count() == 2
    assert bot.outbound_messages.filter(message_type="template").exists()
    assert wait_for(lambda: bot.outbound_messages.filter(state="read").count() == 2)
    # [start-inbox]
    from django.urls import reverse
    from rest_framework.test import APIClient

    # The admin's inbox for this contact: the conversation, the window, and a reply box.
    print(reverse("admin:sinch_whatsapp_contact_inbox", args=[contact.pk]))
    # /admin/sinch_whatsapp/contact/<id>/inbox/

    # The same from your own front end, through the API: newest first, then the read receipt.
    api = APIClient()
    api.force_authenticate(api_user)  # a member of the bot's tenant
    inbox = api.get("/api/sinch-whatsapp/inbound/", {"bot": bot.pk, "sender": "+46 73 200 11 22"}).json()
    first = inbox["results"][0]
    print(first["text"], first["read_at"])  # Is my order on its way? None
    read = api.post(f"/api/sinch-whatsapp/inbound/{first['id']}/mark-read/").json()
    print(read["read_at"] is not None)  # True: the customer sees two blue ticks
    # [end-inbox]
    assert reverse("admin:sinch_whatsapp_contact_inbox", args=[contact.pk]) == (
        f"/admin/sinch_whatsapp/contact/{contact.pk}/inbox/"
    )
    assert first["text"] == "Is my order on its way?" and read["read_at"] is not None
    assert any(entry["path"].endswith("/events") for entry in sandbox.requests_log)
