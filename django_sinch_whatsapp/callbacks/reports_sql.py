"""A callback's delivery reports applied by one PostgreSQL statement, sent with the callback's INSERT.

The webhook's cost on a busy machine follows its round trips: one more
``SELECT 1`` per callback cost 15% of the webhook's CPU, client and server
together (bench/RESULTS.md, "Session 9"). The reports' work was two
statements with Python between them (lock the messages, then write history and
states), so two round trips. Here it is one data-modifying ``WITH``:

- ``locked``: the messages the reports name, ``SELECT ... FOR UPDATE`` in pk
  order, found by their Sinch ids alone, as :func:`.statuses.messages_to_lock`
  does for a signed callback (another bot's rows are how its reports are
  refused). Not by bot and id: without statistics (a new install, autovacuum
  off) the planner read the bot's index whole for that (bench/RESULTS.md,
  "Session 9"); the Sinch id's own index is the only one that fits;
- ``ins``: a history row per report, its message found among ``locked`` (this
  bot's rows only), ``ON CONFLICT DO NOTHING RETURNING``;
- ``upd``: each of this bot's locked messages moved to its report's state when
  that is forward (the rank comparison and the terminal states in the WHERE
  clause, as :func:`.bulk.advance_states`).

It answers with the locked rows as they were before the move (and whether each
moved) and the history rows written, which is all the Python after it needs:
the signals' previous states, the refusal of another bot's reports, adoption of
unknown ids, orphans. Only for callbacks that name each message once (the rule
"forward only, in arrival order" is then the WHERE clause); any other callback
takes the two statements. Every name is quoted model metadata, every state and
rank one of this package's constants, every value bound.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.db import connection

from .bulk import _column_name, _literal, _rank_sql


def _quote(name: str) -> str:
    return str(connection.ops.quote_name(name))


#: What the statement raises, when it is to be committed with the query that sent it
#: (``guarded``), for reports that need Python after it: an id this bot does not have (one to
#: adopt), another bot's message (to refuse) or a history row stored before (an orphan to attach).
NEEDS_PYTHON = "sinch_whatsapp: reports that need Python after the statement"


def needs_python(err: BaseException) -> bool:
    return NEEDS_PYTHON in str(err)


@functools.lru_cache(maxsize=64)
def statement_text(ids: int, vendor: str, guarded: bool = False) -> str:
    """The statement for ``ids`` reports (one per message). ``guarded``: it fails (:data:`NEEDS_PYTHON`)
    unless every report wrote a new history row of one of this bot's messages, so the caller may
    send ``COMMIT`` after it in the same query: nothing is left to do in Python but to read its answer."""
    from ..models import LOCKED_STATES, OutboundMessage, StatusEvent

    def om(name: str) -> str:
        return _quote(_column_name(OutboundMessage, name))

    def se(name: str) -> str:
        return _quote(_column_name(StatusEvent, name))

    messages = _quote(OutboundMessage._meta.db_table)
    history = _quote(StatusEvent._meta.db_table)
    columns = ", ".join(f"{messages}.{_quote(str(f.column))}" for f in OutboundMessage._meta.concrete_fields)
    where = f"{messages}.{om('sinch_message_id')} IN ({', '.join(['%s'] * ids)})"
    # Every value typed: the statement may be prepared (``PREPARE``), where nothing else says what they are.
    row = "(%s::text, %s::text, %s::text, %s::text, %s::text, %s::timestamptz, %s::jsonb, %s::integer)"
    bot_type = StatusEvent._meta.get_field("bot").db_type(connection)
    callback_type = StatusEvent._meta.get_field("callback").db_type(connection)
    inserted = ", ".join(
        se(name)
        for name in (
            "bot",
            "message",
            "sinch_message_id",
            "state",
            "status",
            "details",
            "recipient",
            "occurred_at",
            "received_at",
            "callback",
            "raw",
        )
    )
    terminal = ", ".join(_literal(str(state)) for state in sorted(LOCKED_STATES))
    pk, sid, bot, state = om("id"), om("sinch_message_id"), om("bot"), om("state")
    event_id, event_sid, event_state = se("id"), se("sinch_message_id"), se("state")
    rank = _rank_sql(f"{messages}.{state}")
    guard = check = ""
    if guarded:
        # A CAST of a text the planner cannot fold (it depends on ins): raised at run time only.
        guard = (
            f", guard AS (SELECT CAST(CASE WHEN (SELECT count(*) FROM ins WHERE ins.{se('message')} IS NOT NULL) "  # noqa: S608
            f"= {_literal(ids)} AND (SELECT count(*) FROM locked) = {_literal(ids)} "
            f"THEN '1' ELSE '{NEEDS_PYTHON}' END AS integer) AS ok)"
        )
        # Read whatever the other parts return, so the guard is always evaluated.
        check = (
            " UNION ALL SELECT locked.*, NULL::boolean, NULL::bigint, NULL::varchar, NULL::varchar "
            "FROM guard LEFT JOIN locked ON false WHERE guard.ok <> 1"
        )
    # Quoted model metadata and this package's constants only; every value is bound.
    return (
        f"WITH locked AS (SELECT {columns} FROM {messages} WHERE {where} "  # noqa: S608
        f"ORDER BY {messages}.{pk} FOR UPDATE), "
        "v (sid, state, status, details, recipient, occurred_at, raw, new_rank) AS "
        f"(VALUES {', '.join([row] * ids)}), "
        f"ins AS (INSERT INTO {history} ({inserted}) "
        f"SELECT %s::{bot_type}, l.{pk}, v.sid, v.state, v.status, v.details, v.recipient, v.occurred_at, "
        f"%s::timestamptz, %s::{callback_type}, v.raw "
        f"FROM v LEFT JOIN locked l ON l.{sid} = v.sid AND l.{bot} = %s "
        f"ON CONFLICT DO NOTHING RETURNING {event_id}, {event_sid}, {event_state}, {se('message')}), "
        f"upd AS (UPDATE {messages} SET {state} = v.state, "
        f"{om('sinch_status')} = CASE WHEN v.status = '' THEN {messages}.{om('sinch_status')} ELSE v.status END, "
        f"{om('state_details')} = CASE WHEN v.details = '' THEN {messages}.{om('state_details')} "
        "ELSE v.details END, "
        f"{om('state_changed_at')} = %s, {om('updated_at')} = %s "
        f"FROM locked l JOIN v ON v.sid = l.{sid} "
        f"WHERE {messages}.{pk} = l.{pk} AND l.{bot} = %s "
        f"AND {messages}.{state} NOT IN ({terminal}) AND {rank} < v.new_rank "
        f"RETURNING {messages}.{pk}){guard} "
        f"SELECT locked.*, upd.{pk} IS NOT NULL, NULL::bigint, NULL::varchar, NULL::varchar "
        f"FROM locked LEFT JOIN upd ON upd.{pk} = locked.{pk} "
        f"UNION ALL SELECT locked.*, NULL::boolean, ins.{event_id}, ins.{event_sid}, ins.{event_state} "
        f"FROM ins LEFT JOIN locked ON false{check}"
    )


def statement_params(
    ids: Sequence[str],
    reports: Sequence[tuple[str, str, str, str, str, Any, Any, int]],
    bot: Any,
    callback: Any,
    now: Any,
) -> list[Any]:
    """Values in the statement's order: the ids to lock, a row per report (id, state, status,
    details, recipient, Sinch's timestamp, raw JSON, rank), then the history's bot, time and
    callback, and the move's time and bot. Prepared for the database."""
    params: list[Any] = list(ids)
    for report in reports:
        params.extend(report)
    params += [bot, now, callback, bot, now, now, bot]
    return params
