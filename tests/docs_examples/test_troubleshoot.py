"""docs/howto/troubleshoot.rst: a 401 from Sinch, a 403 on callbacks, messages stuck in "accepted"."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.conftest import CALLBACK_KEY, TOKEN
from tests.webhook_helpers import signed_headers, status_payload


@pytest.mark.django_db(transaction=True)
def test_a_401_is_a_wrong_token_or_the_other_region(make_bot, fresh_sandbox):
    fresh_sandbox.register_bot("support-bot", TOKEN, region="us", callback_key=CALLBACK_KEY)
    # A bot whose token is wrong, and one used against the other region's host.
    wrong_token = make_bot(base_url_override=fresh_sandbox.region_url("us"), bearer_token="not-the-token-0000")
    wrong_region = make_bot(name="EU", sinch_bot_id="support-bot-eu", base_url_override=fresh_sandbox.region_url("eu"))
    fresh_sandbox.register_bot("support-bot-eu", TOKEN, region="us", callback_key=CALLBACK_KEY)
    # [start-401]
    from django_sinch_whatsapp import services

    for bot in (wrong_token, wrong_region):
        outcome = services.send_text(bot, ["46732001122"], "Hello", allow_outside_window=True)
        message = outcome.messages[0]
        print(message.state, message.error_status_code)  # error 401
        print(outcome.errors[0].hint)
        # Check the bot's bearer token, and that the bot's region (US or EU) is the one its Sinch bot
        # was provisioned in: the two hosts are not interchangeable.
    # [end-401]
    for bot in (wrong_token, wrong_region):
        row = bot.outbound_messages.get()
        assert (row.state, row.error_status_code) == ("error", 401), (row.state, row.error_message)
    assert "region" in outcome.errors[0].hint and "bearer token" in outcome.errors[0].hint


@pytest.mark.django_db
def test_a_403_on_a_callback_is_a_signature_that_does_not_verify(bot, client):
    from django_sinch_whatsapp.callbacks import refusals

    refusals.reset_for_tests()  # bot pks repeat between tests: no earlier test's write throttle applies
    body = json.dumps(status_payload("m-1", "delivered")).encode()
    # [start-403]
    from django_sinch_whatsapp.models import CallbackEvent, CallbackRefusalStats

    # Signed with another key than the bot's (or the body was changed on the way): refused, nothing stored.
    refused = client.post(
        bot.callback_path, body, content_type="application/json", **signed_headers(body, "some-other-key-0123456789")
    )
    print(refused.status_code, refused.json()["detail"])  # 403 Signature verification failed: ...
    print(CallbackEvent.objects.filter(bot=bot).count())  # 0

    # What was refused, per bot (the bot's admin page and the API's "refused_callbacks" show it too):
    stats = CallbackRefusalStats.objects.get(bot=bot)
    print(stats.count, stats.last_reason)  # 1 Signature verification failed: ...
    # [end-403]
    assert refused.status_code == 403 and refused.json()["detail"].startswith("Signature verification failed")
    assert CallbackEvent.objects.filter(bot=bot).count() == 0
    assert stats.count == 1 and stats.last_reason.startswith("Signature verification failed")
    accepted = client.post(bot.callback_path, body, content_type="application/json", **signed_headers(body))
    assert accepted.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_messages_stuck_in_accepted_are_sent_by_reconciliation(sandbox_bot, fresh_sandbox):
    from django_sinch_whatsapp.models import OutboundMessage

    bot = sandbox_bot
    # Recorded, and the process died before it dispatched them (or no Celery worker ran).
    OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={"type": "text", "text": "Your code is 4711"}
    )
    OutboundMessage.objects.update(created_at=OutboundMessage.objects.get().created_at - timedelta(minutes=20))
    # [start-stuck]
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("sinch_whatsapp_reconcile", "--dry-run", stdout=out)
    print(out.getvalue())
    # Dry run: would re-dispatch 1 batch(es), mark 0 unfinished dispatch(es) unknown and look up 0 message(s);
    # nothing was changed.

    call_command("sinch_whatsapp_reconcile", stdout=out)  # re-dispatches what was recorded but never sent
    message = OutboundMessage.objects.get()
    print(message.state != "accepted", message.sinch_message_id is not None)  # True True: sent, Sinch has it
    # [end-stuck]
    assert "would re-dispatch 1 batch(es)" in out.getvalue()
    assert message.state != "accepted" and message.sinch_message_id
    assert fresh_sandbox.count("POST", "/messages") == 1
