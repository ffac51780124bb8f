"""Unknown rows without a Sinch id: retried only once reconciliation has confirmed Sinch never took them.

Through the sandbox over real HTTP: a dropped connection (the sandbox reads the request and closes the
socket without taking the message) leaves a row Sinch does not have; a read timeout (the sandbox takes
the message and answers too late) leaves a row Sinch has. Only the first may ever be retried.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from django_sinch_whatsapp import services
from django_sinch_whatsapp.models import (
    CallbackEvent,
    CallbackRefusalStats,
    MessageState,
    OutboundMessage,
    StatusEvent,
)
from django_sinch_whatsapp.services.lost_sends import confirm_lost_sends, silence_problem
from django_sinch_whatsapp.services.reconciliation import reconcile
from django_sinch_whatsapp.services.retry import RetryRefused, retry_message

from .conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "46732001122"
DAY_AND_AN_HOUR = timedelta(hours=25)


def retry_url(message) -> str:
    return reverse("admin:sinch_whatsapp_outboundmessage_retry", args=[message.pk])


def sandbox_messages_saying(sandbox, text: str) -> list[dict]:
    """The messages the sandbox took whose text (or template parameter) is ``text``."""
    found = []
    for record in sandbox.messages:
        message = record["message"] or {}
        if message.get("text") == text or text in (message.get("body_params") or []):
            found.append(record)
    return found


def lost_send(bot, sandbox, code: str = "1234") -> OutboundMessage:
    """A template whose connection the sandbox drops after reading it: Sinch never took it, no answer came.

    A template, as a message retried a day later is: a text is refused once the 24-hour window closed.
    """
    from django_sinch_whatsapp.client import messages as builders

    sandbox.faults.drop_next(1, path_contains="/messages")
    outcome = services.send_message(bot, [NUMBER], builders.template("login_code", language="en", body_params=[code]))
    row = OutboundMessage.objects.get(pk=outcome.messages[0].pk)
    assert row.state == MessageState.UNKNOWN and row.sinch_message_id is None
    assert sandbox_messages_saying(sandbox, code) == []
    return row


def age(row: OutboundMessage, by: timedelta = DAY_AND_AN_HOUR) -> None:
    """As if the send had been made ``by`` ago (Sinch retries its reports for 81,920 s at most)."""
    OutboundMessage.objects.filter(pk=row.pk).update(
        created_at=row.created_at - by, dispatched_at=(row.dispatched_at or row.created_at) - by
    )


def a_delivered_message(bot, sandbox, text: str = "Something else") -> OutboundMessage:
    """A send that goes through, whose reports come back over the live webhook (it works)."""
    outcome = services.send_text(bot, [NUMBER], text, allow_outside_window=True)
    assert sandbox.wait_for_callbacks(10)
    row = OutboundMessage.objects.get(pk=outcome.messages[0].pk)
    assert wait_for(lambda: OutboundMessage.objects.get(pk=row.pk).state == "read")
    return row


def test_a_lost_send_is_retried_once_after_reconciliation_confirms_sinch_never_took_it(
    admin_client, live_sandbox_bot, fresh_sandbox
):
    row = lost_send(live_sandbox_bot, fresh_sandbox)
    posts = fresh_sandbox.count("POST", "/messages")
    assert posts == 1  # the request reached the sandbox, which took nothing

    # Before reconciliation: refused, saying why and what must run first.
    page = admin_client.get(retry_url(row))
    refusal = page.context["refusal"]
    assert "Retrying could send it twice" in refusal and "run reconciliation first" in refusal
    assert "Not confirmed yet: Sinch may still report it until" in refusal
    admin_client.post(retry_url(row))
    with pytest.raises(RetryRefused, match="run reconciliation first"):
        retry_message(row)
    assert fresh_sandbox.count("POST", "/messages") == posts and OutboundMessage.objects.count() == 1

    # The same recipient gets another message meanwhile: its reports prove the webhook works.
    other = a_delivered_message(live_sandbox_bot, fresh_sandbox)
    posts = fresh_sandbox.count("POST", "/messages")
    assert reconcile(older_than=timedelta(0)).confirmed_absent == 0  # too early: Sinch may still report it
    assert OutboundMessage.objects.get(pk=row.pk).absent_confirmed_at is None

    age(row)
    out = StringIO()
    call_command("sinch_whatsapp_reconcile", stdout=out)
    assert "confirmed 1 unknown message(s) absent at Sinch" in out.getvalue()
    assert "1 confirmed never taken by Sinch may be retried" in out.getvalue()
    row.refresh_from_db()
    assert row.absent_confirmed_at is not None and row.state == MessageState.UNKNOWN
    assert fresh_sandbox.count("POST", "/messages") == posts  # reconciling sent nothing

    page = admin_client.get(retry_url(row))
    assert page.context["refusal"] == "" and b"Reconciliation confirmed" in page.content
    response = admin_client.post(retry_url(row), follow=True)
    assert "Sinch accepted 1 of 1 message(s)." in [str(m) for m in response.context["messages"]]
    # Exactly one message reached the sandbox for the retry, and it is the lost one's.
    assert fresh_sandbox.count("POST", "/messages") == posts + 1
    assert len(sandbox_messages_saying(fresh_sandbox, "1234")) == 1
    retry = OutboundMessage.objects.exclude(pk__in=[row.pk, other.pk]).get()
    assert retry.payload == row.payload and retry.recipient == NUMBER and retry.sinch_message_id
    row.refresh_from_db()
    assert row.retry_send_id == retry.send_id and row.state == MessageState.UNKNOWN  # its history is kept

    # Again, from the page or from code: refused for good.
    assert "already retried" in admin_client.get(retry_url(row)).context["refusal"]
    admin_client.post(retry_url(row))
    with pytest.raises(RetryRefused, match="already retried"):
        retry_message(row)
    assert fresh_sandbox.count("POST", "/messages") == posts + 1
    assert len(sandbox_messages_saying(fresh_sandbox, "1234")) == 1


def test_a_read_timeout_that_reached_sinch_is_never_retried(admin_client, live_sandbox_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "READ_TIMEOUT": 0.3}
    fresh_sandbox.faults.slow_next(1, 1.0, path_contains="/messages")  # taken, answered too late
    outcome = services.send_text(live_sandbox_bot, [NUMBER], "Timed out", allow_outside_window=True)
    row = outcome.messages[0]
    assert row.state == MessageState.UNKNOWN and row.sinch_message_id is None
    assert "Retrying could send it twice" in admin_client.get(retry_url(row)).context["refusal"]
    # Its delivery reports come back: the row adopts them and settles (callbacks.statuses).
    assert fresh_sandbox.wait_for_callbacks(10)
    assert wait_for(lambda: OutboundMessage.objects.get(pk=row.pk).state == "read")
    age(row)
    assert reconcile(older_than=timedelta(0)).confirmed_absent == 0
    assert "only messages Sinch refused" in admin_client.get(retry_url(row)).context["refusal"]
    admin_client.post(retry_url(row))
    assert OutboundMessage.objects.count() == 1
    assert len(sandbox_messages_saying(fresh_sandbox, "Timed out")) == 1


@pytest.mark.parametrize("fault", ["drop", "read timeout"])
def test_silence_proves_nothing_while_no_report_reaches_the_webhook(sandbox_bot, fresh_sandbox, settings, fault):
    # The sandbox bot has no callback URL: Sinch's reports, if any, stay in its callback store, which
    # answers only by Sinch's message id. A taken message (read timeout) must never look absent.
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "READ_TIMEOUT": 0.3}
    if fault == "drop":
        fresh_sandbox.faults.drop_next(1, path_contains="/messages")
    else:
        fresh_sandbox.faults.slow_next(1, 1.0, path_contains="/messages")
    outcome = services.send_text(sandbox_bot, [NUMBER], "Hi", allow_outside_window=True)
    row = OutboundMessage.objects.get(pk=outcome.messages[0].pk)
    assert row.state == MessageState.UNKNOWN
    age(row)
    assert reconcile(older_than=timedelta(0)).confirmed_absent == 0
    row.refresh_from_db()
    assert row.absent_confirmed_at is None
    with pytest.raises(RetryRefused, match="no callback of this bot arrived since its dispatch"):
        retry_message(row)
    # The late answer is logged once given; a dropped request was logged when read.
    assert wait_for(lambda: fresh_sandbox.count("POST", "/messages") == 1, timeout=5)
    assert fresh_sandbox.wait_for_callbacks(10)
    assert OutboundMessage.objects.count() == 1
    assert len(sandbox_messages_saying(fresh_sandbox, "Hi")) == (0 if fault == "drop" else 1)


def test_a_conversation_bots_lost_send_is_never_confirmed(live_conversation_bot, fresh_sandbox):
    fresh_sandbox.faults.drop_next(1, path_contains="messages:send")
    outcome = services.send_text(live_conversation_bot, [NUMBER], "Hi", allow_outside_window=True)
    row = OutboundMessage.objects.get(pk=outcome.messages[0].pk)
    assert row.state == MessageState.UNKNOWN and row.sinch_message_id is None
    age(row)
    report = reconcile(older_than=timedelta(0))
    assert report.confirmed_absent == 0 and not report.errors
    assert OutboundMessage.objects.get(pk=row.pk).absent_confirmed_at is None
    with pytest.raises(RetryRefused, match="the 'conversation' transport can neither look a message up by our id"):
        retry_message(row)
    assert OutboundMessage.objects.count() == 1


# -- what the stored callbacks must show (no HTTP: rows as the webhook leaves them) ---------------


@pytest.fixture
def unknown_row(bot):
    sent = timezone.now() - DAY_AND_AN_HOUR
    row = OutboundMessage.objects.create(
        bot=bot, recipient=NUMBER, message_type="text", payload={"type": "text", "text": "hi"}, state="unknown"
    )
    OutboundMessage.objects.filter(pk=row.pk).update(created_at=sent, dispatched_at=sent)
    row.refresh_from_db()
    return row


def stored_callback(bot, state="processed", **values):
    return CallbackEvent.objects.create(
        bot=bot, body=b"{}", signature_verdict="valid", processing_state=state, **values
    )


def report(bot, recipient="+46732001122", message=None, sinch_id="01SINCH", state="queued", **values):
    return StatusEvent.objects.create(
        bot=bot, message=message, sinch_message_id=sinch_id, state=state, recipient=recipient, **values
    )


def test_a_working_webhook_and_a_day_of_silence_confirm_it(unknown_row):
    stored_callback(unknown_row.bot)
    assert silence_problem(unknown_row) == ""
    assert confirm_lost_sends(cutoff=timezone.now(), dry_run=True).confirmed_absent == 1
    assert OutboundMessage.objects.get(pk=unknown_row.pk).absent_confirmed_at is None  # a dry run writes nothing
    assert confirm_lost_sends(cutoff=timezone.now()).confirmed_absent == 1
    assert OutboundMessage.objects.get(pk=unknown_row.pk).absent_confirmed_at is not None
    assert confirm_lost_sends(cutoff=timezone.now()).checked == 0  # decided: not looked at again


def test_a_report_for_the_recipient_nobody_holds_may_be_its_own(unknown_row):
    stored_callback(unknown_row.bot)
    report(unknown_row.bot, recipient="+46 73 200 11 22")  # an orphan, in another spelling
    assert "may have been this message's" in silence_problem(unknown_row)
    assert confirm_lost_sends(cutoff=timezone.now()).confirmed_absent == 0


def test_a_report_an_older_lost_send_adopted_may_be_its_own(unknown_row):
    bot = unknown_row.bot
    stored_callback(bot)
    older = OutboundMessage.objects.create(
        bot=bot, recipient=NUMBER, message_type="text", payload={}, state="delivered", sinch_message_id="01OLD"
    )
    OutboundMessage.objects.filter(pk=older.pk).update(dispatched_at=unknown_row.dispatched_at - timedelta(minutes=1))
    report(bot, message=older, sinch_id="01OLD", state="read")  # its first history came after this row's dispatch
    assert "may have been this message's" in silence_problem(unknown_row)
    # The same older row, with history from its own send answer before this row's dispatch: explained.
    report(bot, message=older, sinch_id="01OLD", received_at=unknown_row.dispatched_at - timedelta(seconds=30))
    assert silence_problem(unknown_row) == ""
    # Reports of a later message to the same recipient are that message's.
    later = OutboundMessage.objects.create(
        bot=bot, recipient=NUMBER, message_type="text", payload={}, state="read", sinch_message_id="01NEW"
    )
    OutboundMessage.objects.filter(pk=later.pk).update(dispatched_at=timezone.now())
    report(bot, message=later, sinch_id="01NEW")
    assert silence_problem(unknown_row) == ""


@pytest.mark.parametrize(
    "problem,words",
    [
        ("nothing stored", "no callback of this bot arrived since its dispatch"),
        ("unprocessed", "not applied (reprocess them first)"),
        ("unreadable", "could not be read: it may have been this message's"),
        ("refused", "was refused since its dispatch"),
        ("elsewhere", "go to another callback URL"),
        ("too early", "Sinch may still report it until"),
    ],
)
def test_what_keeps_silence_from_proving_absence(unknown_row, problem, words):
    bot = unknown_row.bot
    if problem != "nothing stored":
        stored_callback(bot)
    if problem == "unprocessed":
        stored_callback(bot, state="failed")
    elif problem == "unreadable":
        stored_callback(bot, state="uninterpreted")
    elif problem == "refused":
        CallbackRefusalStats.objects.create(bot=bot, count=1, last_reason="bad signature")
    elif problem == "elsewhere":
        OutboundMessage.objects.filter(pk=unknown_row.pk).update(callback_url="https://hooks.example.org/x")
    elif problem == "too early":
        OutboundMessage.objects.filter(pk=unknown_row.pk).update(dispatched_at=timezone.now() - timedelta(hours=20))
    unknown_row.refresh_from_db()
    assert words in silence_problem(unknown_row)
    assert confirm_lost_sends(cutoff=timezone.now()).confirmed_absent == 0
    with pytest.raises(RetryRefused, match="run reconciliation first"):
        retry_message(unknown_row)


def test_our_own_webhook_url_on_the_row_is_no_obstacle(unknown_row, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PUBLIC_BASE_URL": "https://app.example.com"}
    stored_callback(unknown_row.bot)
    OutboundMessage.objects.filter(pk=unknown_row.pk).update(callback_url=unknown_row.bot.callback_url)
    unknown_row.refresh_from_db()
    assert silence_problem(unknown_row) == ""


def test_a_transport_that_looks_sends_up_by_our_id_is_asked(unknown_row, settings):
    from django_sinch_whatsapp.callbacks.events import StatusUpdate
    from django_sinch_whatsapp.transports import Feature
    from django_sinch_whatsapp.transports.whatsapp import WhatsAppTransport

    asked: list[str] = []

    class LookupTransport(WhatsAppTransport):
        name = "lookup"
        features = frozenset({*WhatsAppTransport.features, Feature.CORRELATION_LOOKUP})
        reports_arrive_within = None
        found: list[StatusUpdate] = []

        @classmethod
        def from_bot(cls, bot):
            return cls()

        def lookup_by_correlation_id(self, correlation_id, recipient):
            asked.append(correlation_id)
            return list(self.found)

    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "TRANSPORTS": {"lookup": LookupTransport}}
    OutboundMessage.objects.filter(pk=unknown_row.pk).update(created_at=timezone.now() - timedelta(hours=1))
    type(unknown_row.bot).objects.filter(pk=unknown_row.bot.pk).update(transport="lookup")
    found = OutboundMessage.objects.create(
        bot=unknown_row.bot, recipient="46732001133", message_type="text", payload={}, state="unknown"
    )
    OutboundMessage.objects.filter(pk=found.pk).update(created_at=timezone.now() - timedelta(hours=1))

    class Found(StatusUpdate):
        correlation_id = str(found.pk)

    LookupTransport.found = []
    report_ = confirm_lost_sends(cutoff=timezone.now(), limit=1)  # least recently looked at first
    first = OutboundMessage.objects.get(pk=asked[0])
    assert report_.confirmed_absent == 1 and first.absent_confirmed_at is not None  # Sinch has none
    LookupTransport.found = [Found(message_id="01FOUND", state="delivered", recipient="+46732001133")]
    report_ = confirm_lost_sends(cutoff=timezone.now())
    assert report_.found == 1 and asked == [str(unknown_row.pk), str(found.pk)]
    found.refresh_from_db()
    assert found.sinch_message_id == "01FOUND" and found.state == "delivered"  # settled, never retried
