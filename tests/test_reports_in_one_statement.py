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
