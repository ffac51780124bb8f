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
