"""Delivery reports -> history rows and message states, set-based (DESIGN.md rule 7).

The messages a callback names are fetched (and locked) in one SELECT, the
history is one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (so signals fire
once per new row), states advance in one UPDATE whose WHERE clause keeps the
forward-only rule (a rank comparison); on PostgreSQL those two are one
statement (a data-modifying ``WITH``, :func:`.bulk.insert_and_advance`). Orphans (reports for ids not known yet)
are kept and attached the same way once their message is known.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Case, CharField, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from .. import signals
from ..models import (
    LOCKED_STATES,
    STATE_RANK,
    CallbackEvent,
    MessageState,
    OutboundMessage,
    SignatureVerdict,
    StatusEvent,
)
from ..queries import messages_from_rows, messages_statement
from .bulk import CHUNK, advance_states, insert_and_advance
from .events import StatusUpdate
from .reports_sql import statement_params, statement_text

if TYPE_CHECKING:
    from ..client.client import MessageStatus
    from ..models import Bot

logger = logging.getLogger("django_sinch_whatsapp.callbacks")


def first_of_each(items: Iterable[Any], key: Any) -> list[Any]:
    """Items in arrival order, the first of each key: a callback may repeat an entry."""
    seen: dict[Any, Any] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


class ReportsOfAnotherBot(Exception):
    """Delivery reports for another bot's messages, signed with a key that bot shares (issue 8).

    Raised out of the callback's transaction, so nothing is stored: the webhook refuses it (403).
    Statuses name no bot (whatsapp-callback.md), so their messages tell whose they are.
    """


def apply_status(bot: Bot, update: StatusUpdate, *, callback: CallbackEvent | None = None) -> OutboundMessage | None:
    """Store one delivery report and move its message forward. Returns the message, if known."""
    with transaction.atomic():
        messages, _ = apply_statuses(bot, [update], callback=callback)
    return messages.get(update.message_id)


def messages_to_lock(
    bot: Bot, updates: list[StatusUpdate], *, callback: CallbackEvent | None = None
) -> tuple[str, list[Any]]:
    """The ``SELECT ... FOR UPDATE`` :func:`apply_statuses` starts with, for a caller that sends it
    earlier (the webhook: with the callback's INSERT, in one round trip) and passes its rows as ``locked``.

    Signed callbacks look the ids up across bots in the same query: Sinch ids
    are unique, so another bot's row for one of them is a report meant for that bot.
    """
    ids = list(dict.fromkeys(u.message_id for u in updates))
    return messages_statement(ids, bot=None if _signed(callback) else bot)


def _signed(callback: CallbackEvent | None) -> bool:
    """A callback whose signature verified: another bot's messages among its ids refuse it (issue 8)."""
    return callback is not None and callback.signature_verdict == SignatureVerdict.VALID


def apply_statuses(
    bot: Bot,
    updates: list[StatusUpdate],
    *,
    callback: CallbackEvent | None = None,
    locked: list[OutboundMessage] | None = None,
) -> tuple[dict[str, OutboundMessage], list[str]]:
    """Store delivery reports and advance their messages. Call inside a transaction.

    Queries: one SELECT ... FOR UPDATE of the messages (none when the caller
    ran :func:`messages_to_lock` and passes its rows as ``locked``), one more
    when some ids are unknown (rows whose outcome was unknown may adopt them),
    one INSERT of history, one UPDATE of states when any moves. Returns the
    known messages by Sinch id and the ids of new reports whose message is not known yet.
    """
    unique = first_of_each(updates, lambda u: (u.message_id, u.state[:40]))
    if locked is None:
        sql, params = messages_to_lock(bot, updates, callback=callback)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            locked = messages_from_rows(cursor.fetchall())
    messages = _ours(bot, locked, callback)
    unknown = [u for u in unique if u.message_id not in messages]
    if unknown:
        messages.update(_adopt(bot, unknown))
    now = timezone.now()
    history = _history_rows(bot, unique, messages, callback, now)
    changes = _plan_advances(messages, updates)
    written, moved = insert_and_advance(
        history, ["id", "sinch_message_id", "state"], [(pk, update) for pk, (_, _, update) in changes.items()], now
    )
    _moved_in_memory(changes, moved, now)
    return messages, _announce(bot, unique, history, written, changes)


def statuses_sent_ahead(
    bot: Bot,
    updates: list[StatusUpdate],
    *,
    callback: CallbackEvent | None = None,
    in_one_statement: bool = True,
    commits: bool = False,
) -> LockedFirst | InOneStatement:
    """The reports' first statement, for a caller that sends it with its own (the webhook: with the
    callback's INSERT, in one round trip), and what finishes them once its rows are back.

    On PostgreSQL, when the callback names each message once (the usual
    delivery report), that statement is all of their writes
    (:class:`InOneStatement`); otherwise it is the messages' lock, and
    :func:`apply_statuses` does the rest (:class:`LockedFirst`). ``commits``:
    the caller sends ``COMMIT`` right after it (see :attr:`InOneStatement.commits`).
    """
    unique = first_of_each(updates, lambda u: (u.message_id, u.state[:40]))
    one_each = len({u.message_id for u in unique}) == len(unique)
    if in_one_statement and connection.vendor == "postgresql" and one_each and 0 < len(unique) <= CHUNK:
        return InOneStatement(bot, unique, callback, commits=commits and nobody_listens())
    return LockedFirst(bot, updates, callback)


def nobody_listens() -> bool:
    """No receiver of the signals a delivery report fires: nothing would run between its writes and COMMIT."""
    return not (
        signals.message_status_changed.has_listeners(OutboundMessage)
        or signals.status_received.has_listeners(StatusEvent)
    )


class LockedFirst:
    """The messages' ``SELECT ... FOR UPDATE`` sent ahead; :func:`apply_statuses` with its rows."""

    def __init__(self, bot: Bot, updates: list[StatusUpdate], callback: CallbackEvent | None) -> None:
        self.bot, self.updates, self.callback = bot, updates, callback
        self.statement = messages_to_lock(bot, updates, callback=callback)

    def finish(self, rows: list[tuple[Any, ...]]) -> tuple[dict[str, OutboundMessage], list[str]]:
        return apply_statuses(self.bot, self.updates, callback=self.callback, locked=messages_from_rows(rows))


#: Reports per callback up to which :class:`InOneStatement` is prepared.
PREPARED_UP_TO = 20


class InOneStatement:
    """History and states written by one statement sent ahead (:mod:`.reports_sql`); then the Python
    that needs its answer: another bot's reports refused, unknown ids adopted, signals, orphans.

    Same rows, same signals, same order of signals as :func:`apply_statuses`.
    Reports of unknown ids are stored as orphans by the statement; those that
    adoption settles are attached to their message right after, in the same
    transaction, and move it as they would have. Another bot's messages are
    locked too (their ids are how its reports are told apart) and left as they
    are; a signed callback that names one refuses itself, as before.
    """

    def __init__(
        self, bot: Bot, unique: list[StatusUpdate], callback: CallbackEvent | None, *, commits: bool = False
    ) -> None:
        self.bot, self.unique, self.callback = bot, unique, callback
        #: The statement is guarded (:data:`.reports_sql.NEEDS_PYTHON`) and the caller sends
        #: ``COMMIT`` after it: only when no receiver listens, so nothing it does needs the
        #: transaction open (:meth:`finish` then writes nothing).
        self.commits = commits
        #: Worth preparing (:mod:`..prepared`): parsing and planning are most of the cost of a callback
        #: of one report, a small part of one of many; and a plan kept for a long IN list rests on
        #: guesses (the planner's estimate of how many rows it matches) that a custom plan need not make.
        self.preparable = len(unique) <= PREPARED_UP_TO
        self.now = timezone.now()
        fields = _history_fields()
        bot_id = fields["bot"].get_db_prep_value(bot.pk, connection)
        when = fields["received_at"].get_db_prep_value(self.now, connection)
        reports = [
            (
                u.message_id,
                u.state[:40],
                u.status[:16],
                u.details or "",
                u.recipient[:64],
                fields["occurred_at"].get_db_prep_value(u.timestamp, connection),
                fields["raw"].get_db_prep_value(u.raw, connection),
                STATE_RANK.get(u.state[:40], -1),
            )
            for u in unique
        ]
        ids = [u.message_id for u in unique]
        callback_id = fields["callback"].get_db_prep_value(callback.pk if callback else None, connection)
        self.statement = (
            statement_text(len(ids), connection.vendor, commits),
            statement_params(ids, reports, bot_id, callback_id, when),
        )

    def finish(self, rows: list[tuple[Any, ...]]) -> tuple[dict[str, OutboundMessage], list[str]]:
        width = len(OutboundMessage._meta.concrete_fields)
        if self.commits and nobody_listens():
            # Committed already, every report applied to one of this bot's messages (the guard):
            # no model is needed, no signal has a receiver; only the rule is checked.
            self._check_moves([row for row in rows if row[width + 1] is None], width)
            return {}, []
        message_rows = [row[:width] for row in rows if row[width + 1] is None]
        moved_flags = [bool(row[width]) for row in rows if row[width + 1] is None]
        written = [tuple(row[width + 1 :]) for row in rows if row[width + 1] is not None]
        locked = messages_from_rows(message_rows)  # as they were before the statement moved them
        messages = _ours(self.bot, locked, self.callback if _signed(self.callback) else None)
        unknown = [u for u in self.unique if u.message_id not in messages]
        planned = _plan_advances(messages, self.unique)
        moved = {m.pk for m, flag in zip(locked, moved_flags, strict=True) if flag}
        if moved != set(planned):  # the rows are locked, so this means a bug, not a race
            logger.error("Expected %d messages to move forward, %d did", len(planned), len(moved))
        changes = {pk: change for pk, change in planned.items() if pk in moved}
        _moved_in_memory(changes, len(changes), self.now)
        adopted = _adopt(self.bot, unknown) if unknown else {}
        if adopted:
            # Their reports were stored as orphans a moment ago: attach them and move their messages.
            _attach_history(self.bot, adopted)
            settled = _plan_advances(adopted, unknown)
            _advance_all(settled, self.now)
            changes.update(settled)
            messages.update(adopted)
        history = _history_rows(self.bot, self.unique, messages, self.callback, self.now)
        return messages, _announce(self.bot, self.unique, history, written, changes, attached=set(adopted))

    def _check_moves(self, rows: list[tuple[Any, ...]], width: int) -> None:
        """What :meth:`finish` logs when the statement moved other messages than the rule says."""
        state, sinch_id = _message_columns()
        new_state = {u.message_id: u.state for u in self.unique}
        expected = sum(
            row[state] not in LOCKED_STATES
            and STATE_RANK.get(new_state.get(row[sinch_id], ""), -1) > STATE_RANK.get(row[state], -1)
            for row in rows
        )
        moved = sum(bool(row[width]) for row in rows)
        if moved != expected:
            logger.error("Expected %d messages to move forward, %d did", expected, moved)


@functools.cache
def _message_columns() -> tuple[int, int]:
    """Where a message row (every concrete field, in order) holds its state and its Sinch id."""
    names = [f.name for f in OutboundMessage._meta.concrete_fields]
    return names.index("state"), names.index("sinch_message_id")


@functools.cache
def _history_fields() -> dict[str, Any]:
    return {f.name: f for f in StatusEvent._meta.concrete_fields}


def _ours(bot: Bot, rows: list[OutboundMessage], callback: CallbackEvent | None) -> dict[str, OutboundMessage]:
    """``bot``'s messages among ``rows`` by Sinch id; another bot's that shares the callback's key refuses it."""
    foreign = {m.bot_id for m in rows if m.bot_id != bot.pk}
    if foreign and callback is not None:
        _refuse_if_key_shared(bot, foreign, callback.key_fingerprint)
    return {m.sinch_message_id: m for m in rows if m.sinch_message_id and m.bot_id == bot.pk}


def _adopt(bot: Bot, unknown: list[StatusUpdate]) -> dict[str, OutboundMessage]:
    """Messages that take the ids of these reports: by correlation id, then rows whose outcome was unknown."""
    adopted = _adopt_by_correlation(bot, unknown)
    rest = [u for u in unknown if u.message_id not in adopted]
    if rest:
        adopted.update(_adopt_unknown(bot, rest))
    return adopted


def _history_rows(
    bot: Bot, unique: list[StatusUpdate], messages: dict[str, OutboundMessage], callback: CallbackEvent | None, now: Any
) -> list[StatusEvent]:
    return [
        StatusEvent(
            bot=bot,
            message=messages.get(u.message_id),
            sinch_message_id=u.message_id,
            state=u.state[:40],
            status=u.status[:16],
            details=u.details,
            recipient=u.recipient[:64],
            occurred_at=u.timestamp,
            received_at=now,
            callback=callback,
            raw=u.raw,
        )
        for u in unique
    ]


def _announce(
    bot: Bot,
    unique: list[StatusUpdate],
    history: list[StatusEvent],
    written: list[tuple[Any, ...]],
    changes: dict[Any, tuple[OutboundMessage, str, StatusUpdate]],
    attached: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[str]:
    """After the history rows (``written``: id, Sinch id, state of each new one) and the moves: attach
    earlier orphans whose message is known now, fire the signals, and return the new orphans' ids.
    ``attached``: ids whose orphans were attached already."""
    inserted = {(sid, state): pk for pk, sid, state in written}
    for row in history:
        row.pk = inserted.get((row.sinch_message_id, row.state))
        row._state.adding = False
    known_but_stored_before = {r.sinch_message_id for r in history if r.pk is None and r.message is not None} - attached
    if known_but_stored_before:
        # Reports stored as orphans by an earlier callback: their message is known now.
        _attach_history(bot, known_but_stored_before)
    for message, previous, update in changes.values():
        signals.message_status_changed.send(
            sender=OutboundMessage, message=message, event=update, previous_state=previous
        )
    by_key = {(u.message_id, u.state[:40]): u for u in unique}
    for row in history:
        if row.pk is not None:
            update = by_key[(row.sinch_message_id, row.state)]
            signals.status_received.send(sender=StatusEvent, status_event=row, event=update, message=row.message)
    orphans = [r.sinch_message_id for r in history if r.pk is not None and r.message is None]
    return list(dict.fromkeys(orphans))


def _refuse_if_key_shared(bot: Bot, other_bot_ids: set[Any], fingerprint: str) -> None:
    from ..exceptions import SecretDecryptionError
    from ..models import Bot as BotModel
    from .verification import key_fingerprint

    for other in BotModel.objects.filter(pk__in=other_bot_ids):
        try:
            shared = fingerprint in {key_fingerprint(key) for _, key in other.signing_keys()}
        except SecretDecryptionError:
            continue
        if shared:
            raise ReportsOfAnotherBot(
                f"Delivery reports for messages of another bot ({other.sinch_bot_id!r}) that shares this signing key"
            )


def _plan_advances(
    messages: dict[str, OutboundMessage], updates: Iterable[StatusUpdate]
) -> dict[Any, tuple[OutboundMessage, str, StatusUpdate]]:
    """Each message's state after these reports in arrival order: forward only, terminal states stay."""
    changes: dict[Any, tuple[OutboundMessage, str, StatusUpdate]] = {}
    targets: dict[Any, str] = {}
    for update in updates:
        message = messages.get(update.message_id)
        if message is None:
            continue
        current = targets.get(message.pk, message.state)
        if current in LOCKED_STATES or STATE_RANK.get(update.state, -1) <= STATE_RANK.get(current, -1):
            continue
        targets[message.pk] = update.state
        changes[message.pk] = (message, message.state, update)
    return changes


def _advance_all(changes: dict[Any, tuple[OutboundMessage, str, StatusUpdate]], now: Any) -> None:
    """One UPDATE for every message that moves; the forward-only rule is in its WHERE clause too."""
    if not changes:
        return
    moved = advance_states([(pk, update) for pk, (_, _, update) in changes.items()], now)
    _moved_in_memory(changes, moved, now)


def _moved_in_memory(changes: dict[Any, tuple[OutboundMessage, str, StatusUpdate]], moved: int, now: Any) -> None:
    if moved != len(changes):  # the rows are locked, so this means a bug, not a race
        logger.error("Expected %d messages to move forward, %d did", len(changes), moved)
    for message, _, update in changes.values():
        message.state = update.state
        message.state_changed_at = message.updated_at = now
        if update.status:
            message.sinch_status = update.status[:16]
        if update.details:
            message.state_details = update.details


def _adopt_by_correlation(bot: Bot, unknown: list[StatusUpdate]) -> dict[str, OutboundMessage]:
    """Reports that carry our row id (``correlation_id``: the Conversation API echoes it) name their row.

    The row takes the report's Sinch id when it has none yet (the answer to the
    send was lost, or is still on its way with the same id). No query when no
    report carries a correlation id (the standalone API's never do).
    """
    import uuid

    by_row: dict[uuid.UUID, str] = {}
    for update in unknown:
        try:
            row_id = uuid.UUID(str(getattr(update, "correlation_id", "") or ""))
        except ValueError:
            continue
        by_row.setdefault(row_id, update.message_id)
    if not by_row:
        return {}
    rows = list(
        OutboundMessage.objects.select_for_update().filter(bot=bot, pk__in=list(by_row), sinch_message_id__isnull=True)
    )
    if not rows:
        return {}
    OutboundMessage.objects.filter(pk__in=[r.pk for r in rows], sinch_message_id__isnull=True).update(
        sinch_message_id=Case(*[When(pk=r.pk, then=Value(by_row[r.pk])) for r in rows], output_field=CharField()),
        updated_at=timezone.now(),
    )
    adopted = {}
    for row in rows:
        row.sinch_message_id = by_row[row.pk]
        adopted[row.sinch_message_id] = row
        logger.info("Message %s matched by its correlation id to Sinch id %s", row.pk, row.sinch_message_id)
    return adopted


def _adopt_unknown(bot: Bot, unknown: list[StatusUpdate]) -> dict[str, OutboundMessage]:
    """Reports for ids we never learnt: the answers to sends whose outcome was unknown.

    A read timeout leaves rows ``unknown`` without Sinch ids; the first report
    for the same recipient settles the oldest such row, unless a send to that
    recipient is in flight (its id may not be saved yet: the report stays an orphan).
    One SELECT, and one UPDATE when some row is settled.
    """
    wires: dict[str, str] = {}
    for update in unknown:
        wire = (update.recipient_e164 or update.recipient).lstrip("+")
        if wire and update.message_id not in wires:
            wires[update.message_id] = wire[:64]
    if not wires:
        return {}
    candidates = list(
        OutboundMessage.objects.filter(bot=bot, recipient__in=set(wires.values()), sinch_message_id__isnull=True)
        .filter(Q(state=MessageState.UNKNOWN) | Q(state=MessageState.ACCEPTED, dispatched_at__isnull=False))
        .order_by("dispatched_at", "created_at")
    )
    if not candidates:
        return {}
    in_flight = {c.recipient for c in candidates if c.state == MessageState.ACCEPTED}
    pool: dict[str, list[OutboundMessage]] = {}
    for candidate in candidates:
        if candidate.state == MessageState.UNKNOWN:
            pool.setdefault(candidate.recipient, []).append(candidate)
    planned: dict[str, OutboundMessage] = {}
    for message_id, wire in wires.items():
        if wire not in in_flight and pool.get(wire):
            planned[message_id] = pool[wire].pop(0)
    if not planned:
        return {}
    settled = OutboundMessage.objects.filter(
        pk__in=[c.pk for c in planned.values()], state=MessageState.UNKNOWN, sinch_message_id__isnull=True
    ).update(
        sinch_message_id=Case(
            *[When(pk=c.pk, then=Value(mid)) for mid, c in planned.items()], output_field=CharField()
        ),
        updated_at=timezone.now(),
    )
    if settled != len(planned):
        # Another callback settled some of them first: trust the database, not the plan.
        return {
            m.sinch_message_id: m
            for m in OutboundMessage.objects.select_for_update().filter(bot=bot, sinch_message_id__in=list(planned))
            if m.sinch_message_id
        }
    for message_id, candidate in planned.items():
        candidate.sinch_message_id = message_id
        logger.info("Message %s (outcome was unknown) settled by a report for %s", candidate.pk, message_id)
    return planned


def _attach_history(bot: Bot, sinch_message_ids: Iterable[str]) -> int:
    """Point orphan history rows at their message, in one UPDATE."""
    return StatusEvent.objects.filter(
        bot=bot, sinch_message_id__in=list(sinch_message_ids), message__isnull=True
    ).update(
        message_id=Subquery(
            OutboundMessage.objects.filter(bot=bot, sinch_message_id=OuterRef("sinch_message_id")).values("pk")[:1]
        )
    )


def record_send_statuses(bot: Bot, answered: list[tuple[OutboundMessage, MessageStatus]]) -> None:
    """The 201 answer's statuses (usually ``queued``) are each message's first history entry.

    A constant number of queries for the batch; the caller holds the rows it claimed.
    """
    if not answered:
        return
    now = timezone.now()
    updates = {
        row.pk: StatusUpdate(
            message_id=status.message_id,
            state=status.state or MessageState.QUEUED,
            status=status.status,
            recipient=status.recipient,
            timestamp=now,
            raw={"source": "send_response", **status.__dict__},
        )
        for row, status in answered
    }
    history = []
    for row, _ in answered:
        update = updates[row.pk]
        history.append(
            StatusEvent(
                bot=bot,
                message=row,
                sinch_message_id=update.message_id,
                state=update.state[:40],
                status=update.status[:16],
                recipient=update.recipient[:64],
                occurred_at=now,
                raw=update.raw,
            )
        )
    # A report for the same state may already have arrived as a callback: that one stays.
    StatusEvent.objects.bulk_create(history, ignore_conflicts=True)
    by_state: dict[str, list[OutboundMessage]] = {}
    for row, _ in answered:
        by_state.setdefault(updates[row.pk].state, []).append(row)
    for state, rows in by_state.items():
        if STATE_RANK.get(state, -1) <= STATE_RANK[MessageState.ACCEPTED]:
            continue
        OutboundMessage.objects.filter(pk__in=[r.pk for r in rows], state=MessageState.ACCEPTED).update(
            state=state, state_changed_at=now, updated_at=now
        )
        for row in rows:
            previous, row.state, row.state_changed_at = row.state, state, now
            signals.message_status_changed.send(
                sender=OutboundMessage, message=row, event=updates[row.pk], previous_state=previous
            )


def attach_orphan_statuses(bot: Bot, sinch_message_ids: Iterable[str | None]) -> int:
    """Attach reports that arrived before their message's Sinch id was saved (after a send).

    One query when there are no orphans (the usual case after a send).
    """
    ids = list(dict.fromkeys(i for i in sinch_message_ids if i))
    if not ids:
        return 0
    if not StatusEvent.objects.filter(bot=bot, sinch_message_id__in=ids, message__isnull=True).exists():
        return 0
    return _attach(bot, ids)


def attach_if_known(bot: Bot, orphan_ids: Iterable[str]) -> int:
    """After a callback commits: a send may have saved these ids meanwhile. One query when it has not."""
    ids = list(dict.fromkeys(orphan_ids))
    if not ids:
        return 0
    if not OutboundMessage.objects.filter(bot=bot, sinch_message_id__in=ids).exists():
        return 0
    return _attach(bot, ids)


def _attach(bot: Bot, ids: list[str]) -> int:
    with transaction.atomic():
        messages = {
            m.sinch_message_id: m
            for m in OutboundMessage.objects.select_for_update()
            .filter(bot=bot, sinch_message_id__in=ids)
            .order_by("pk")
            if m.sinch_message_id
        }
        if not messages:
            return 0
        orphans = list(
            StatusEvent.objects.filter(bot=bot, sinch_message_id__in=list(messages), message__isnull=True).order_by(
                "received_at", "id"
            )
        )
        if not orphans:
            return 0
        _attach_history(bot, messages)
        updates = [
            StatusUpdate(
                message_id=o.sinch_message_id,
                state=o.state,
                status=o.status,
                details=o.details,
                recipient=o.recipient,
                timestamp=o.occurred_at,
                raw=o.raw,
            )
            for o in orphans
        ]
        changes = _plan_advances(messages, updates)
        _advance_all(changes, timezone.now())
        for message, previous, update in changes.values():
            signals.message_status_changed.send(
                sender=OutboundMessage, message=message, event=update, previous_state=previous
            )
    return len(orphans)
