"""How accepted messages reach Sinch: rows first, the HTTP call after commit.

``deliver_batch`` is the one function that sends a batch (up to 20 rows that
share a ``batch_id`` and a message). It runs in-process right after the
transaction that recorded the rows commits (``DISPATCH_BACKEND = "inline"``),
or in a Celery worker (``"celery"``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from .client.client import MessageStatus
from .clients import client_for_bot
from .conf import app_settings
from .exceptions import SinchAPIError, SinchRequestMayHaveBeenSent
from .models import MessageState, OutboundMessage
from .phone import best_effort_e164

logger = logging.getLogger("django_sinch_whatsapp.dispatch")


@dataclass
class BatchResult:
    batch_id: uuid.UUID
    sent: int = 0
    error: SinchAPIError | None = None


def schedule(batch_ids: Iterable[uuid.UUID]) -> list[BatchResult]:
    """Dispatch after the current transaction commits; inline results are returned via the list."""
    ids = list(batch_ids)
    results: list[BatchResult] = []
    backend = app_settings.DISPATCH_BACKEND

    def run() -> None:
        if backend == "celery":
            from .tasks import deliver_batch_task

            for batch_id in ids:
                deliver_batch_task.delay(str(batch_id))
        else:
            for batch_id in ids:
                try:
                    results.append(deliver_batch(batch_id))
                except Exception:
                    # The rows are committed; reconciliation settles them (never re-sending a claimed batch).
                    logger.exception("Dispatch of batch %s failed", batch_id)

    transaction.on_commit(run)
    return results


def deliver_batch(batch_id: uuid.UUID | str) -> BatchResult:
    """Send one recorded batch and record Sinch's answer on its rows.

    The rows are claimed (``dispatched_at`` set) under a row lock before the
    call, so another run of the same batch (a redelivered task, a
    reconciliation) finds nothing left to send: a batch goes out at most once.
    """
    from .callbacks.processing import attach_orphan_statuses, record_send_statuses

    batch_id = uuid.UUID(str(batch_id))
    result = BatchResult(batch_id=batch_id)
    with transaction.atomic():
        rows = list(
            OutboundMessage.objects.select_for_update(of=("self",))
            .select_related("bot")
            .filter(batch_id=batch_id, state=MessageState.ACCEPTED, dispatched_at__isnull=True)
            .order_by("created_at", "recipient")
        )
        if not rows:
            return result
        now = timezone.now()
        OutboundMessage.objects.filter(pk__in=[r.pk for r in rows]).update(dispatched_at=now)
        for row in rows:
            row.dispatched_at = now
    bot = rows[0].bot
    first = rows[0]
    if not bot.is_active:
        _record_error(rows, SinchAPIError("Bot is inactive", "Nothing was sent: the bot is switched off."))
        return result
    try:
        client = client_for_bot(bot)
        statuses = client.send_message(
            [row.recipient for row in rows], first.payload, callback=first.callback_url or None
        )
    except SinchRequestMayHaveBeenSent as err:
        _record_unknown(rows, err)
        result.error = err
        return result
    except SinchAPIError as err:
        _record_error(rows, err)
        result.error = err
        return result
    by_recipient = {best_effort_e164(s.recipient): s for s in statuses}
    answered: list[tuple[OutboundMessage, MessageStatus]] = []
    unanswered: list[OutboundMessage] = []
    for index, row in enumerate(rows):
        status = by_recipient.get(best_effort_e164(row.recipient))
        if status is None and len(statuses) == len(rows):
            status = statuses[index]  # same count, same order: Sinch echoes the recipients it was given
        if status is None or not status.message_id:
            unanswered.append(row)
        else:
            answered.append((row, status))
    with transaction.atomic():
        taken = _save_sinch_ids(answered)
        record_send_statuses(bot, [(row, status) for row, status in answered if row not in taken])
        missing = SinchAPIError("No status for this recipient", "Sinch's 201 answer did not list it")
        for row in [*unanswered, *taken]:
            _save_error(row, taken.get(row, missing))
    result.sent = len(answered) - len(taken)
    attach_orphan_statuses(bot, [row.sinch_message_id for row, _ in answered if row not in taken])
    return result


def _save_sinch_ids(answered: list[tuple[OutboundMessage, MessageStatus]]) -> dict[OutboundMessage, SinchAPIError]:
    """Store each row's Sinch id in one query; rows whose id another row already holds are returned."""
    now = timezone.now()
    for row, status in answered:
        row.sinch_message_id = status.message_id
        row.sinch_status = status.status[:16]
        row.updated_at = now
    try:
        with transaction.atomic():
            OutboundMessage.objects.bulk_update(
                [row for row, _ in answered], ["sinch_message_id", "sinch_status", "updated_at"]
            )
        return {}
    except IntegrityError:
        pass
    taken: dict[OutboundMessage, SinchAPIError] = {}
    for row, status in answered:  # rare: find which id collides, keep the others
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
