"""The webhook's delivery reports in one statement sent with the callback's INSERT (PostgreSQL;
callbacks/reports_sql.py), against the two statements with Python between them that every other
case takes: the same rows, the same signals, and a failure of the statement loses nothing."""

from __future__ import annotations

import contextlib

import pytest
from django.db import connection

from django_sinch_whatsapp import signals
from django_sinch_whatsapp.callbacks import statuses
from django_sinch_whatsapp.models import CallbackEvent, MessageState, OutboundMessage, StatusEvent

from .webhook_helpers import post_callback, status_payload

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def signals_seen():
    seen: dict[str, list] = {"changed": [], "received": []}
    signals.message_status_changed.connect(
        lambda **kw: seen["changed"].append((kw["message"].pk, kw["previous_state"], kw["message"].state)),
        dispatch_uid="t-changed",
        weak=False,
    )
    signals.status_received.connect(
        lambda **kw: seen["received"].append(
            (kw["status_event"].pk, kw["event"].state, kw["message"].pk if kw["message"] else None)
        ),
        dispatch_uid="t-received",
        weak=False,
    )
    try:
        yield seen
    finally:
        signals.message_status_changed.disconnect(dispatch_uid="t-changed")
        signals.status_received.disconnect(dispatch_uid="t-received")


def sent(bot, sinch_id: str, state: str = MessageState.QUEUED) -> OutboundMessage:
    return OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={}, sinch_message_id=sinch_id, state=state
    )


def payload_of(*reports: tuple[str, str]) -> dict:
    return {
        "type": "whatsapp",
        "statuses": [
            {"status": "success", "state": state, "message_id": sid, "recipient": "+46732001122"}
            for sid, state in reports
        ],
    }


def test_which_callbacks_take_the_one_statement(bot):
    one_each = statuses.statuses_sent_ahead(bot, statuses_of(("a", "delivered"), ("b", "read")))
    twice = statuses.statuses_sent_ahead(bot, statuses_of(("a", "delivered"), ("a", "read")))
    repeated = statuses.statuses_sent_ahead(bot, statuses_of(("a", "delivered"), ("a", "delivered")))
    off = statuses.statuses_sent_ahead(bot, statuses_of(("a", "delivered")), in_one_statement=False)
    expected = statuses.InOneStatement if connection.vendor == "postgresql" else statuses.LockedFirst
    assert isinstance(one_each, expected) and isinstance(repeated, expected)
    assert isinstance(twice, statuses.LockedFirst) and isinstance(off, statuses.LockedFirst)


def statuses_of(*reports: tuple[str, str]):
    from django_sinch_whatsapp.callbacks.parsing import parse_callback

    return parse_callback(payload_of(*reports)).statuses


def test_moves_history_and_signals_of_a_callback_of_several_messages(client, bot):
    queued, delivered, read, failed = (
        sent(bot, f"m{i}", state) for i, state in enumerate(["queued", "delivered", "read", "failed"])
    )
    with signals_seen() as seen:
        answer = post_callback(
            client,
            bot,
            payload_of(("m0", "delivered"), ("m1", "read"), ("m2", "delivered"), ("m3", "read"), ("x", "read")),
        )
    assert answer.status_code == 200, answer.content
    states = dict(OutboundMessage.objects.values_list("sinch_message_id", "state"))
    assert states == {"m0": "delivered", "m1": "read", "m2": "read", "m3": "failed"}  # forward only; failed stays
    assert sorted(seen["changed"]) == sorted([(queued.pk, "queued", "delivered"), (delivered.pk, "delivered", "read")])
    history = {e.sinch_message_id: e for e in StatusEvent.objects.all()}
    assert set(history) == {"m0", "m1", "m2", "m3", "x"} and history["x"].message_id is None
    assert all(history[f"m{i}"].message_id == m.pk for i, m in enumerate([queued, delivered, read, failed]))
    assert sorted(seen["received"], key=str) == sorted(
        [(e.pk, e.state, e.message_id) for e in history.values()], key=str
    )
    assert CallbackEvent.objects.get().processing_state == "processed"


def test_a_row_whose_outcome_was_unknown_adopts_its_report_with_history_and_signals(client, bot):
    row = OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={}, state=MessageState.UNKNOWN
    )
    with signals_seen() as seen:
        assert post_callback(client, bot, status_payload("new-id", "delivered")).status_code == 200
    row.refresh_from_db()
    assert (row.sinch_message_id, row.state) == ("new-id", "delivered")
    event = StatusEvent.objects.get()
    assert event.message_id == row.pk
    assert seen == {"changed": [(row.pk, "unknown", "delivered")], "received": [(event.pk, "delivered", row.pk)]}


def test_two_reports_for_one_message_move_it_in_arrival_order(client, bot):
    message = sent(bot, "twice")
    assert post_callback(client, bot, payload_of(("twice", "read"), ("twice", "delivered"))).status_code == 200
    message.refresh_from_db()
    assert message.state == "read" and StatusEvent.objects.filter(message=message).count() == 2


@pytest.mark.postgres_only
def test_a_failing_statement_is_sent_again_as_two_and_nothing_is_lost(client, bot, monkeypatch):
    message = sent(bot, "m")
    tried = []
    real = statuses.statement_text

    def broken(*args):
        tried.append(args)
        # Divides a rank by zero: fails at the server, after the callback's INSERT in the same query.
        return real(*args).replace("%s::integer)", "%s::integer / 0)", 1)

    monkeypatch.setattr(statuses, "statement_text", broken)
    with signals_seen() as seen:
        answer = post_callback(client, bot, status_payload("m", "delivered"))
    assert answer.status_code == 200, answer.content
    assert len(tried) == 1
    message.refresh_from_db()
    assert message.state == "delivered" and StatusEvent.objects.get().message_id == message.pk
    assert CallbackEvent.objects.get().processing_state == "processed"
    assert seen["changed"] == [(message.pk, "queued", "delivered")]


# --- committed in the first query (PostgreSQL, no receiver, nothing but reports) ---------------------
#
# Outside a test transaction (transaction=True): the webhook's atomic() is the transaction, so it may
# send COMMIT after the reports' statement. Reports that need Python before COMMIT make the statement
# fail (its guard), and the callback is applied again with the statement alone; these are those cases.


def traced_post(client, bot, payload, **kw):
    from .wire_trace import wire_trace

    with wire_trace() as trace:
        answer = post_callback(client, bot, payload, **kw)
    return answer, trace.queries


@pytest.mark.parametrize("shape", ["known", "unknown", "adopted", "seen before"])
@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_committed_with_the_statement_unless_python_is_needed(client, bot, shape):
    if shape in ("known", "seen before"):
        message = sent(bot, "m")
    elif shape == "adopted":
        message = OutboundMessage.objects.create(
            bot=bot, recipient="46732001122", message_type="text", payload={}, state=MessageState.UNKNOWN
        )
    if shape == "seen before":  # the same report re-signed (a new nonce): its history row is there
        assert post_callback(client, bot, status_payload("m", "delivered")).status_code == 200
    answer, queries = traced_post(client, bot, status_payload("m", "delivered"))
    assert answer.status_code == 200, answer.content
    batches = [q for q in queries if "EXECUTE sinch_wa_p" in q or "INSERT" in q]
    if shape == "known":
        assert len(batches) == 1 and batches[0].endswith("; COMMIT") and "COMMIT" not in queries, queries
    else:  # the guard failed the first; the second left COMMIT for after Python
        assert len(batches) == 2 and batches[0].endswith("; COMMIT") and not batches[1].endswith("COMMIT"), queries
        assert "COMMIT" in queries, queries
    assert CallbackEvent.objects.filter(processing_state="processed").count() == (2 if shape == "seen before" else 1)
    events = list(StatusEvent.objects.all())
    assert len(events) == 1
    if shape == "unknown":
        assert events[0].message_id is None  # an orphan, kept for its message
    else:
        message.refresh_from_db()
        assert (message.sinch_message_id, message.state) == ("m", "delivered")
        assert events[0].message_id == message.pk


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_another_bots_reports_are_refused_when_committed_with_the_statement(client, make_bot, other_organization):
    bot_a = make_bot(sinch_bot_id="bot-a", name="A")
    bot_b = make_bot(sinch_bot_id="bot-b", name="B", tenant=other_organization)  # the same signing key
    message = sent(bot_a, "msg-of-a")
    answer, _ = traced_post(client, bot_b, status_payload("msg-of-a", "delivered"))
    assert answer.status_code == 403 and "another bot ('bot-a')" in answer.json()["detail"]
    assert not CallbackEvent.objects.exists() and not StatusEvent.objects.exists()
    message.refresh_from_db()
    assert message.state == "queued"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_commit_is_left_to_it(client, bot):
    """A project that calls the webhook inside its own atomic() (ATOMIC_REQUESTS does not: the view
    opts out) owns the transaction: nothing commits before its block ends, even before its first query."""
    from django.db import transaction

    message = sent(bot, "m")
    with transaction.atomic():
        answer, queries = traced_post(client, bot, status_payload("m", "delivered"))
        assert answer.status_code == 200, answer.content
        assert not any("COMMIT" in q for q in queries), queries
    message.refresh_from_db()
    assert message.state == "delivered"


@pytest.mark.postgres_only
def test_a_committed_statement_that_broke_the_rule_is_logged(bot, caplog):
    """The rule is the statement's WHERE clause; the Python after it checks the answer against it."""
    import logging

    from django.db import transaction

    message = sent(bot, "m")
    ahead = statuses.statuses_sent_ahead(bot, statuses_of(("m", "delivered")), commits=True)
    assert isinstance(ahead, statuses.InOneStatement) and ahead.commits
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(*ahead.statement)
        rows = cursor.fetchall()
        transaction.set_rollback(True)
    width = len(OutboundMessage._meta.concrete_fields)
    with caplog.at_level(logging.ERROR, logger="django_sinch_whatsapp.callbacks"):
        assert ahead.finish(rows) == ({}, [])
        assert not caplog.records
        tampered = [(*row[:width], False, *row[width + 1 :]) if row[width + 1] is None else row for row in rows]
        ahead.finish(tampered)
    assert [r.getMessage() for r in caplog.records] == ["Expected 1 messages to move forward, 0 did"]
    message.refresh_from_db()
    assert message.state == "queued"  # rolled back
