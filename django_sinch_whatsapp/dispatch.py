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

from django.db import transaction
from django.utils import timezone

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
                results.append(deliver_batch(batch_id))

    transaction.on_commit(run)
    return results


def deliver_batch(batch_id: uuid.UUID | str) -> BatchResult:
    """Send one accepted batch and record Sinch's answer on its rows. Safe to call twice."""
    from .callbacks.processing import attach_orphan_statuses, record_status_from_send

    batch_id = uuid.UUID(str(batch_id))
    result = BatchResult(batch_id=batch_id)
    with transaction.atomic():
        rows = list(
            OutboundMessage.objects.select_for_update()
            .select_related("bot")
            .filter(batch_id=batch_id, state=MessageState.ACCEPTED)
            .order_by("created_at", "recipient")
        )
        if not rows:
            return result
        now = timezone.now()
        OutboundMessage.objects.filter(pk__in=[r.pk for r in rows]).update(dispatched_at=now)
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
    matched = []
    with transaction.atomic():
        for index, row in enumerate(rows):
            status = by_recipient.get(best_effort_e164(row.recipient))
            if status is None and index < len(statuses) and len(statuses) == len(rows):
                status = statuses[index]
            if status is None or not status.message_id:
                _save_error(row, SinchAPIError("No status for this recipient", "Sinch's answer did not list it"))
                continue
            row.sinch_message_id = status.message_id
            row.sinch_status = status.status
            row.save(update_fields=["sinch_message_id", "sinch_status", "updated_at"])
            record_status_from_send(row, status)
            matched.append(row)
            result.sent += 1
    attach_orphan_statuses(bot, [row.sinch_message_id for row in matched])
    return result


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
