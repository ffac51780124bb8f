"""Sinch's 201 answer to a send, written on the rows it names: the Sinch ids, the first state, the history.

One write whatever the batch size. On PostgreSQL it is a single statement
(a data-modifying CTE: the UPDATE of the rows and the INSERT of their first
history entries), so the answer is atomic on its own; elsewhere the same two
statements run in one transaction. Either way the forward-only rule is in SQL:
only a row still ``accepted`` takes the answer's state.

After the commit comes one read: reports for these ids that arrived before the
ids were stored (orphans, :func:`orphans_exist`). Where statements can be
combined (:mod:`.roundtrips`) and no transaction is open, the read travels in
the answer's own query string, ``BEGIN; <answer>; COMMIT; <read>``: still after
the commit (the server runs them in order, the read with a snapshot of its own),
one round trip instead of two: 0.26 ms of a 4 ms send against the sandbox,
a third of what the send cost over its floor (bench/RESULTS.md, "Session 11").
"""

from __future__ import annotations

import datetime
import functools
import json
import logging
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Case, F, Value, When

from .models import STATE_RANK, Bot, MessageState, OutboundMessage, StatusEvent
from .roundtrips import can_combine, execute_together

if TYPE_CHECKING:
    from .client.client import MessageStatus

Answered = list[tuple[OutboundMessage, "MessageStatus"]]

logger = logging.getLogger("django_sinch_whatsapp.dispatch")


def first_state(status: MessageStatus) -> str:
    return status.state or MessageState.QUEUED


def _moves(status: MessageStatus) -> bool:
    return STATE_RANK.get(first_state(status), -1) > STATE_RANK[MessageState.ACCEPTED]


def store_answers(bot: Bot, answered: Answered, now: datetime.datetime) -> bool | None:
    """Write the answer; the row objects are updated in memory too (state excepted: see ``dispatch``).

    Returns whether orphans exist for the answered ids when that was read after
    the commit in the same round trip; ``None`` when it was not read (ask
    :func:`orphans_exist`). Raises ``IntegrityError`` (nothing written) when a
    Sinch id is already held by another row.
    """
    if not answered:
        return False
    history = [_history_entry(bot, row, status, now) for row, status in answered]
    orphans = None
    if connection.vendor == "postgresql":
        orphans = _in_one_statement(bot, answered, history, now)
    else:
        with transaction.atomic():
            _update_rows(answered, now)
            # A report for the same state may already have arrived as a callback: that one stays.
            StatusEvent.objects.bulk_create(history, ignore_conflicts=True)
    for row, status in answered:
        row.sinch_message_id = status.message_id
        row.sinch_status = status.status[:16]
        row.updated_at = now
    return orphans


def _history_entry(bot: Bot, row: OutboundMessage, status: MessageStatus, now: datetime.datetime) -> StatusEvent:
    return StatusEvent(
        bot=bot,
        message=row,
        sinch_message_id=status.message_id,
        state=first_state(status)[:40],
        status=status.status[:16],
        recipient=status.recipient[:64],
        occurred_at=now,
        received_at=now,
        raw={"source": "send_response", **status.__dict__},
    )


def _update_rows(answered: Answered, now: datetime.datetime) -> None:
    values: dict[str, Any] = {"updated_at": now}
    if len(answered) == 1:
        status = answered[0][1]
        values["sinch_message_id"] = status.message_id
        values["sinch_status"] = status.status[:16]
    else:  # one statement whatever the batch size: the ids by primary key
        values["sinch_message_id"] = Case(*[When(pk=row.pk, then=Value(status.message_id)) for row, status in answered])
        values["sinch_status"] = Case(*[When(pk=row.pk, then=Value(status.status[:16])) for row, status in answered])
    targets = [(row.pk, first_state(status)) for row, status in answered if _moves(status)]
    if targets:
        accepted = MessageState.ACCEPTED
        values["state"] = Case(*[When(pk=pk, state=accepted, then=Value(s)) for pk, s in targets], default=F("state"))
        values["state_changed_at"] = Case(
            *[When(pk=pk, state=accepted, then=Value(now)) for pk, _ in targets], default=F("state_changed_at")
        )
    OutboundMessage.objects.filter(pk__in=[row.pk for row, _ in answered]).update(**values)


def _column(model: type[Any], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _in_one_statement(bot: Bot, answered: Answered, history: list[StatusEvent], now: datetime.datetime) -> bool | None:
    """``WITH moved AS (UPDATE rows ...) INSERT INTO history ... ON CONFLICT DO NOTHING``, then the
    orphans read after its commit in the same query string where it can be (see the module's docstring)."""
    params: list[Any] = [MessageState.ACCEPTED, MessageState.ACCEPTED, now, now]
    for row, status in answered:
        params += [str(row.pk), status.message_id, status.status[:16], first_state(status) if _moves(status) else None]
    for entry in history:
        params += [entry.bot_id, str(entry.message_id), entry.sinch_message_id, entry.state, entry.status, ""]
        params += [entry.recipient, entry.occurred_at, entry.received_at, json.dumps(entry.raw, cls=DjangoJSONEncoder)]
    sql = _answer_sql(len(answered))
    if not (connection.get_autocommit() and can_combine(connection.alias)):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        return None
    read = _orphans_query(bot, [status.message_id for _, status in answered])
    try:
        # Our own BEGIN: COMMIT alone would end the query string's implicit transaction with a WARNING.
        results = execute_together([("BEGIN", []), (sql, params), ("COMMIT", []), read], connection.alias)
    except Exception:
        _end_failed_block()
        raise
    return bool(results[-1])


def _end_failed_block() -> None:
    """The answer failed inside our BEGIN: the server keeps the failed block open until a ROLLBACK."""
    from psycopg.pq import TransactionStatus

    raw = connection.connection
    if raw is None or raw.closed or raw.info.transaction_status != TransactionStatus.INERROR:
        return
    try:
        raw.rollback()
    except Exception:  # a broken connection: the answer's own error is the one to raise; Django closes it later
        logger.warning("Could not roll back a failed send answer's transaction", exc_info=True)


@functools.cache
def _answer_sql(size: int) -> str:
    """The statement for a batch of ``size`` rows (PostgreSQL; built once per size)."""
    quote = connection.ops.quote_name
    rows_table, events_table = quote(OutboundMessage._meta.db_table), quote(StatusEvent._meta.db_table)
    out = {name: _column(OutboundMessage, name) for name in ("id", "sinch_message_id", "sinch_status", "state")}
    changed_at, updated_at = _column(OutboundMessage, "state_changed_at"), _column(OutboundMessage, "updated_at")
    event_fields = ["bot", "message", "sinch_message_id", "state", "status", "details", "recipient"]
    event_fields += ["occurred_at", "received_at", "raw"]
    event_columns = ", ".join(_column(StatusEvent, name) for name in event_fields)
    answer_values = ", ".join(["(%s::uuid, %s::text, %s::text, %s::text)"] * size)
    event_values = ", ".join(["(%s, %s::uuid, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"] * size)
    # Only quoted identifiers from our own models and %s placeholders go into the text; values are parameters.
    return (
        f"WITH moved AS (UPDATE {rows_table} AS m SET "  # noqa: S608
        f"{out['sinch_message_id']} = v.sinch_id, {out['sinch_status']} = v.status, "
        f"{out['state']} = CASE WHEN v.state IS NOT NULL AND m.{out['state']} = %s THEN v.state "
        f"ELSE m.{out['state']} END, "
        f"{changed_at} = CASE WHEN v.state IS NOT NULL AND m.{out['state']} = %s THEN %s ELSE m.{changed_at} END, "
        f"{updated_at} = %s "
        f"FROM (VALUES {answer_values}) AS v(id, sinch_id, status, state) WHERE m.{out['id']} = v.id "
        f"RETURNING m.{out['id']}) "
        f"INSERT INTO {events_table} ({event_columns}) VALUES {event_values} ON CONFLICT DO NOTHING"
    )


def orphans_exist(bot: Bot, sinch_message_ids: list[str]) -> bool:
    """Whether reports for these ids arrived before the ids were stored (read after our commit)."""
    sql, params = _orphans_query(bot, sinch_message_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


def _orphans_query(bot: Bot, sinch_message_ids: list[str]) -> tuple[str, list[Any]]:
    """Plain SQL: it runs after every send, and the ORM's query building costs more than the query."""
    return _orphans_sql(len(sinch_message_ids)), [bot.pk, *sinch_message_ids]


@functools.cache
def _orphans_sql(size: int) -> str:
    table = connection.ops.quote_name(StatusEvent._meta.db_table)
    bot_column, message_column = _column(StatusEvent, "bot"), _column(StatusEvent, "message")
    id_column = _column(StatusEvent, "sinch_message_id")
    placeholders = ", ".join(["%s"] * size)
    return (
        f"SELECT 1 FROM {table} WHERE {bot_column} = %s AND {message_column} IS NULL "  # noqa: S608
        f"AND {id_column} IN ({placeholders}) LIMIT 1"
    )
