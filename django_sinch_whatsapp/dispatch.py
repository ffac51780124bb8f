"""How accepted messages reach Sinch: rows first, the HTTP call after commit.

A batch is up to 20 rows that share a ``batch_id`` and a message. It is sent
at most once: its rows are *claimed* (``dispatched_at`` set) in a committed
transaction before the request, and only unclaimed rows are ever sent.

Two ways in:

- ``deliver_claimed(rows)``: the inline fast path. ``services.send_message``
  records the rows already claimed, in the transaction that writes them, and
  sends them right after that commit from the objects it holds: no re-read,
  no separate claim (two transactions per single send, see the docstring of
  ``services.sending``).
- ``schedule(batch_ids)`` -> ``deliver_batch(batch_id)``: the outbox path, for
  Celery workers, sends inside a caller's transaction and reconciliation. The
  rows are recorded unclaimed; whoever delivers them claims them under a row
  lock first.

A dispatch that cannot start (broker unreachable, the client cannot be built)
leaves the rows unclaimed in state ``accepted``; reconciliation dispatches
them later. A dispatch that fails after the request may have gone out never
releases the claim: reconciliation marks such rows ``unknown``, never re-sends.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import signals
from .answers import first_state as _first_state
from .answers import orphans_exist, store_answers
from .client.client import MessageStatus
from .clients import transport_for_bot
from .conf import app_settings
from .exceptions import SinchAPIError, SinchRequestMayHaveBeenSent
from .models import STATE_RANK, Bot, MessageState, OutboundMessage
from .phone import best_effort_e164

logger = logging.getLogger("django_sinch_whatsapp.dispatch")


@dataclass
class BatchResult:
    """What one batch's dispatch did.

    ``error``: Sinch refused it or its outcome is unknown. ``dispatch_error``:
    the dispatch never started or did not finish here (the rows are left to the
    outbox: re-dispatched when unclaimed, settled as ``unknown`` when claimed).
    """

    batch_id: uuid.UUID
    size: int = 0
    sent: int = 0
    error: SinchAPIError | None = None
    dispatch_error: str = ""


ResultSink = Callable[[BatchResult], None]


def schedule(batch_ids: Iterable[uuid.UUID], on_result: ResultSink | None = None) -> list[BatchResult]:
    """Dispatch these recorded batches by id after the current transaction commits.

    Each outcome goes to ``on_result`` (a send summarises them without keeping
    them); without it they are collected in the returned list, filled once the
    transaction has committed.
    """
    ids = list(batch_ids)
    results: list[BatchResult] = []
    sink = on_result or results.append
    backend = app_settings.DISPATCH_BACKEND

    def run() -> None:
        if backend == "celery":
            publish(ids, sink)
            return
        for batch_id in ids:
            try:
                sink(deliver_batch(batch_id))
            except Exception as err:
                # The rows are committed; the outbox settles them (never re-sending a claimed batch).
                logger.exception("Dispatch of batch %s failed", batch_id)
                sink(BatchResult(batch_id=batch_id, dispatch_error=_describe(err)))

    transaction.on_commit(run)
    return results


def publish(batch_ids: list[uuid.UUID], sink: ResultSink) -> None:
    """One Celery task per batch. An unreachable broker leaves the rows to reconciliation."""
    from .tasks import deliver_batch_task

    failure = ""
    for batch_id in batch_ids:
        if not failure:
            try:
                deliver_batch_task.delay(str(batch_id))
                continue
            except Exception as err:  # kombu's OperationalError and friends: the broker is down
                failure = _describe(err)
                logger.error("Could not publish batch %s (left for reconciliation): %s", batch_id, failure)
        # After one failure the rest would each wait for the broker again: they wait for the outbox instead.
        sink(BatchResult(batch_id=batch_id, dispatch_error=failure))


def dispatch_due(*, limit: int = 500, now: datetime | None = None) -> list[uuid.UUID]:
    """Dispatch the deferred batches whose ``not_before`` has come (the messaging tier's deferrals).

    Run it often (``django_sinch_whatsapp.dispatch_due`` every minute with celery
    beat): a deferred row goes out within one run of its time instead of at the
    next reconciliation. Its rows lose their ``not_before`` (it has passed) in the
    transaction that schedules them, so the next run does not publish them again
    while their task waits in the queue; if the publish fails they are ordinary
    outbox rows, which reconciliation dispatches. Two runs at once take disjoint
    rows on PostgreSQL (``SKIP LOCKED``); a batch is sent at most once anyway
    (:func:`deliver_batch` claims its rows under a lock).

    At most ``limit`` batches per run; returns their ids (scheduled after the commit).
    """
    from .ratelimit import MAX_RECIPIENTS_PER_REQUEST

    now = now or timezone.now()
    due = OutboundMessage.objects.filter(
        state=MessageState.ACCEPTED, dispatched_at__isnull=True, not_before__isnull=False, not_before__lte=now
    )
    with transaction.atomic():
        rows = list(
            due.select_for_update(skip_locked=True)
            .order_by("not_before", "batch_id")
            .values_list("pk", "batch_id")[: limit * MAX_RECIPIENTS_PER_REQUEST]
        )
        batch_ids = list(dict.fromkeys(batch_id for _, batch_id in rows))[:limit]
        if not batch_ids:
            return []
        chosen = set(batch_ids)
        taken = [pk for pk, batch_id in rows if batch_id in chosen]
        OutboundMessage.objects.filter(pk__in=taken).update(not_before=None)
        schedule(batch_ids)
    logger.info("Dispatching %d deferred batch(es) whose time has come", len(batch_ids))
    return batch_ids


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"[:500]


def deliver_batch(batch_id: uuid.UUID | str) -> BatchResult:
    """Claim one recorded batch under a row lock, send it, record Sinch's answer on its rows.

    Another run of the same batch (a redelivered task, a reconciliation) finds
    nothing left to claim: a batch goes out at most once.
    """
    batch_id = uuid.UUID(str(batch_id))
    with transaction.atomic():
        rows = list(
            OutboundMessage.objects.select_for_update(of=("self",))
            .select_related("bot")
            .filter(batch_id=batch_id, state=MessageState.ACCEPTED, dispatched_at__isnull=True)
            .filter(Q(not_before__isnull=True) | Q(not_before__lte=timezone.now()))  # deferred by the tier
            .order_by("created_at", "recipient")
        )
        if not rows:
            return BatchResult(batch_id=batch_id)
        now = timezone.now()
        OutboundMessage.objects.filter(pk__in=[r.pk for r in rows]).update(dispatched_at=now)
        for row in rows:
            row.dispatched_at = now
    return deliver_claimed(rows)


def deliver_claimed(rows: list[OutboundMessage]) -> BatchResult:
    """Send rows this process has claimed (one batch, one bot) within the bot's rate limit.

    The batch goes out in requests of at most the bot's burst, each after its
    tokens (:mod:`.ratelimit`); rows the limit does not allow in time here are
    released to the outbox.
    """
    from .ratelimit.pacing import paced

    return paced(rows, _deliver_request)


def _deliver_request(rows: list[OutboundMessage]) -> BatchResult:
    """One request of claimed rows (one batch, one bot), updating them in place."""
    first = rows[0]
    bot: Bot = first.bot
    result = BatchResult(batch_id=first.batch_id, size=len(rows))
    if not bot.is_active:
        _record_error(rows, SinchAPIError("Bot is inactive", "Nothing was sent: the bot is switched off."))
        return result
    try:
        transport = transport_for_bot(bot)
        # Our row ids travel as correlation ids where the wire has them, so a report can always be matched.
        requests = transport.build_requests(
            first.payload,
            [row.recipient for row in rows],
            correlation_ids=[str(row.pk) for row in rows],
            callback_url=first.callback_url or "",
        )
    except Exception:
        release(rows)  # nothing was sent: the outbox may send these rows later
        raise
    # One request per group the transport takes (20 on the standalone API, 1 on Conversation), in order.
    start = 0
    for request in requests:
        part = rows[start : start + len(request.recipients)]
        start += len(part)
        try:
            sent = transport.send(request)
        except SinchRequestMayHaveBeenSent as err:
            _record_unknown(part, err)  # never re-sent: its outcome is settled by a report or reconciliation
            result.error = result.error or err
            continue
        except SinchAPIError as err:
            _record_error(part, err)
            result.error = result.error or err
            continue
        statuses = [MessageStatus(s.message_id, s.recipient, str(s.raw.get("status", "")), s.state) for s in sent]
        result.sent += _record_answer(bot, part, statuses)
    return result


def release(rows: list[OutboundMessage]) -> None:
    """Un-claim rows that were never sent, so reconciliation dispatches them (best effort)."""
    try:
        OutboundMessage.objects.filter(pk__in=[r.pk for r in rows], state=MessageState.ACCEPTED).update(
            dispatched_at=None
        )
    except Exception:
        logger.exception("Could not release batch %s; reconciliation will mark it unknown", rows[0].batch_id)
        return
    for row in rows:
        row.dispatched_at = None


def _record_answer(bot: Bot, rows: list[OutboundMessage], statuses: list[MessageStatus]) -> int:
    """Sinch's 201 answer on the rows: ids, first state and history in one transaction of two statements.

    Returns how many rows got a Sinch id. A report that arrived before the ids
    were stored (an orphan) is attached after the commit: the webhook does the
    same after its own commit, so whichever commits last sees the other.
    """
    # Sinch echoes each recipient as sent (digits, maybe with '+'): match on that, parse only what differs.
    by_recipient = {s.recipient.lstrip("+"): s for s in statuses}
    if len(by_recipient) != len(statuses) or any(row.recipient not in by_recipient for row in rows):
        by_recipient = {best_effort_e164(s.recipient): s for s in statuses}
        rows_key = {row.pk: best_effort_e164(row.recipient) for row in rows}
    else:
        rows_key = {row.pk: row.recipient for row in rows}
    answered: list[tuple[OutboundMessage, MessageStatus]] = []
    unanswered: list[OutboundMessage] = []
    for index, row in enumerate(rows):
        status = by_recipient.get(rows_key[row.pk])
        if status is None and len(statuses) == len(rows):
            status = statuses[index]  # same count, same order: Sinch echoes the recipients it was given
        if status is None or not status.message_id:
            unanswered.append(row)
        else:
            answered.append((row, status))
    missing = SinchAPIError("No status for this recipient", "Sinch's 201 answer did not list it")
    now = timezone.now()
    try:
        orphans = store_answers(bot, answered, now)
        taken: dict[OutboundMessage, SinchAPIError] = {}
    except IntegrityError:
        orphans = None
        # Rare: a Sinch id another row already holds. Find which, one row at a time.
        for row, _ in answered:
            row.sinch_message_id, row.state = None, MessageState.ACCEPTED
        from .callbacks.processing import record_send_statuses

        with transaction.atomic():
            taken = _save_sinch_ids(answered)
            record_send_statuses(bot, [(row, status) for row, status in answered if row not in taken])
            for row in [*unanswered, *taken]:
                _save_error(row, taken.get(row, missing))
    else:
        _signal_first_states(answered)
        if unanswered:
            with transaction.atomic():
                for row in unanswered:
                    _save_error(row, missing)
    stored = [row.sinch_message_id for row, _ in answered if row not in taken and row.sinch_message_id]
    if stored and (orphans if orphans is not None else orphans_exist(bot, stored)):
        from .callbacks.processing import attach_orphan_statuses

        attach_orphan_statuses(bot, stored)
    return len(stored)


def _signal_first_states(answered: list[tuple[OutboundMessage, MessageStatus]]) -> None:
    """The rows moved from 'accepted' to the answer's state: update them in memory and say so."""
    from .callbacks.events import StatusUpdate

    accepted_rank = STATE_RANK[MessageState.ACCEPTED]
    for row, status in answered:
        state = _first_state(status)
        if row.state != MessageState.ACCEPTED or STATE_RANK.get(state, -1) <= accepted_rank:
            continue
        previous, row.state, row.state_changed_at = row.state, state, row.updated_at
        update = StatusUpdate(
            message_id=status.message_id,
            state=state,
            status=status.status,
            recipient=status.recipient,
            timestamp=row.updated_at,
            raw={"source": "send_response", **status.__dict__},
        )
        signals.message_status_changed.send(sender=OutboundMessage, message=row, event=update, previous_state=previous)


def _save_sinch_ids(answered: list[tuple[OutboundMessage, MessageStatus]]) -> dict[OutboundMessage, SinchAPIError]:
    """Store each row's Sinch id, one row at a time; rows whose id another row already holds are returned."""
    now = timezone.now()
    taken: dict[OutboundMessage, SinchAPIError] = {}
    for row, status in answered:
        row.sinch_message_id = status.message_id
        row.sinch_status = status.status[:16]
        row.updated_at = now
        try:
            with transaction.atomic():
                row.save(update_fields=["sinch_message_id", "sinch_status", "updated_at"])
        except IntegrityError:
            logger.error("Sinch id %s of message %s is already held by another message", status.message_id, row.pk)
            row.sinch_message_id = None
            taken[row] = SinchAPIError("Duplicate Sinch message id", f"{status.message_id} is held by another message")
    return taken


def _record_error(rows: list[OutboundMessage], err: SinchAPIError) -> None:
    with transaction.atomic():
        for row in rows:
            _save_error(row, err)


def _save_error(row: OutboundMessage, err: SinchAPIError) -> None:
    now = timezone.now()
    row.state = MessageState.ERROR
    row.error_status_code = err.status_code
    row.error_message = err.message
    row.error_details = err.details
    row.state_changed_at = now
    row.save(
        update_fields=[
            "state",
            "error_status_code",
            "error_message",
            "error_details",
            "state_changed_at",
            "updated_at",
        ]
    )
    logger.warning("Message %s to bot %s refused: %s", row.pk, row.bot_id, err)


def _record_unknown(rows: list[OutboundMessage], err: SinchAPIError) -> None:
    now = timezone.now()
    OutboundMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
        state=MessageState.UNKNOWN,
        error_message=err.message,
        error_details=err.details,
        state_changed_at=now,
        updated_at=now,
    )
    for row in rows:
        row.state = MessageState.UNKNOWN
        row.error_message = err.message
        row.error_details = err.details
    logger.warning("Batch %s: outcome unknown: %s", rows[0].batch_id, err)
