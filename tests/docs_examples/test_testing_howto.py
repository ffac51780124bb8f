"""docs/howto/testing.rst: a project's own fixtures on the sandbox, and tests that use them."""

from __future__ import annotations

# [start-fixtures]
import time

import pytest

from django_sinch_whatsapp.models import Bot
from django_sinch_whatsapp.sandbox import SandboxServer

SANDBOX_TOKEN = "sandbox-token-0123456789"
SANDBOX_KEY = "sandbox-signing-key-0123456789"


@pytest.fixture(scope="session")
def sinch_sandbox():
    """One sandbox (a real HTTP server on 127.0.0.1) for the whole test session."""
    with SandboxServer(step_delay=0.01) as server:  # delivery reports 10 ms apart
        yield server


@pytest.fixture
def sinch(sinch_sandbox):
    """The sandbox, forgetting every bot, message, fault and planned callback before and after each test."""
    sinch_sandbox.reset()
    yield sinch_sandbox
    sinch_sandbox.reset()


@pytest.fixture
def whatsapp_bot(sinch, organization, live_server, settings):
    """A bot whose Sinch is the sandbox, and whose callbacks come back to the test's live server."""
    settings.SINCH_WHATSAPP = {
        **settings.SINCH_WHATSAPP,
        "BASE_URL_OVERRIDE_HOSTS": ["127.0.0.1"],  # tests only: let a bot point at loopback
        "PUBLIC_BASE_URL": live_server.url,
    }
    bot = Bot.objects.create(
        tenant=organization,  # your tenant fixture
        name="Test bot",
        sinch_bot_id="test-bot",
        bearer_token=SANDBOX_TOKEN,
        callback_key=SANDBOX_KEY,
        base_url_override=sinch.region_url("us"),
    )
    sinch.register_bot("test-bot", SANDBOX_TOKEN, callback_url=bot.callback_url, callback_key=SANDBOX_KEY)
    yield bot
    # Reports still on their way must land while the test database is there.
    sinch.wait_for_callbacks(10)


def wait_for(predicate, timeout=10.0):
    """Poll until ``predicate()`` is true: callbacks arrive on the live server's threads."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# [end-fixtures]


@pytest.mark.django_db(transaction=True)  # callbacks arrive on the live server's threads: commit for real
def test_an_order_confirmation_is_read(whatsapp_bot, sinch):
    # [start-test]
    from django_sinch_whatsapp import services
    from django_sinch_whatsapp.client import messages

    services.send_message(whatsapp_bot, ["+46 73 200 11 22"], messages.template("order_confirmed", language="en"))

    # What the sandbox received, exactly as Sinch would have:
    (request,) = [entry for entry in sinch.requests_log if entry["path"].endswith("/messages")]
    print(request["body"]["to"], request["body"]["message"]["template_name"])  # ['46732001122'] order_confirmed

    # Its signed delivery reports come back through the webhook (on other threads: poll).
    message = whatsapp_bot.outbound_messages.get()
    assert wait_for(lambda: whatsapp_bot.outbound_messages.get().state == "read")
    # [end-test]
    assert request["body"]["to"] == ["46732001122"] and message.sinch_message_id


@pytest.mark.django_db(transaction=True)
def test_a_dropped_connection_leaves_the_message_unknown(whatsapp_bot, sinch):
    # [start-drop]
    from django_sinch_whatsapp import services

    # The next POST /messages is read, then the connection closes without an answer.
    sinch.faults.drop_next(1, path_contains="/messages")
    outcome = services.send_text(whatsapp_bot, ["46732001122"], "Hello", allow_outside_window=True)
    print(outcome.messages[0].state)  # unknown: it may have reached Sinch, so it is never sent again
    # [end-drop]
    assert outcome.messages[0].state == "unknown"
    assert sinch.count("POST", "/messages") == 1
