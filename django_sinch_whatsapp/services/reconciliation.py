"""Settle messages a missed webhook left unresolved, from the callback store.

Sinch keeps the delivery reports of each message (whatsapp-callback-store.md,
``GET /callbacks/status/{message-id}``). Messages still short of a final
state after a while are looked up there and the reports applied as if they
had arrived as callbacks (idempotent, order-proof). Rows recorded but never
dispatched (the process died between commit and send) are dispatched again:
their ``dispatched_at`` is empty, so nothing can have reached Sinch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..callbacks.events import CallbackParseError
from ..callbacks.parsing import parse_callback
from ..callbacks.processing import apply_status
from ..clients import client_for_bot
from ..dispatch import deliver_batch
from ..exceptions import SecretDecryptionError, SinchAPIError
from ..models import MessageState, OutboundMessage

logger = logging.getLogger("django_sinch_whatsapp.reconciliation")

UNSETTLED_STATES = (MessageState.QUEUED, MessageState.DISPATCHED, MessageState.SENT, MessageState.UNKNOWN)


@dataclass
class ReconcileReport:
    checked: int = 0
    changed: int = 0
    redispatched_batches: int = 0
    abandoned: int = 0
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    def summary(self) -> str:
        """The one line a run is reported with (the log and the management command say the same)."""
        if self.dry_run:
            return (
                f"Dry run: would re-dispatch {self.redispatched_batches} batch(es), mark {self.abandoned} "
                f"unfinished dispatch(es) unknown and look up {self.checked} message(s); nothing was changed."
            )
        return (
            f"Checked {self.checked}, changed {self.changed}, re-dispatched {self.redispatched_batches} batch(es), "
            f"marked {self.abandoned} unfinished dispatch(es) unknown, {len(self.errors)} error(s)."
        )


def reconcile(
    *,
    older_than: timedelta = timedelta(minutes=15),
    limit: int = 500,
    dry_run: bool = False,
    progress: Callable[[int], Callable[[int], None]] | None = None,
) -> ReconcileReport:
    """Look up unsettled messages older than ``older_than`` (at most ``limit`` per run).

    ``dry_run`` counts what a run would do and changes nothing (no dispatch, no update, no call to
    Sinch). ``progress(total)`` is called once with the number of messages to look up and returns the
    callable advanced after each one (see ``management/progress.py``).
    """
    report = ReconcileReport(dry_run=dry_run)
    cutoff = timezone.now() - older_than
    never_sent = (
        OutboundMessage.objects.filter(state=MessageState.ACCEPTED, dispatched_at__isnull=True, created_at__lt=cutoff)
        .values_list("batch_id", flat=True)
        .distinct()
    )
    for batch_id in list(never_sent[:limit]):
        if not dry_run:
            deliver_batch(batch_id)
        report.redispatched_batches += 1
    # Claimed for sending but never answered (the process died mid-call): the
    # request may have reached Sinch, so never re-send; say so and let reports settle it.
    abandoned = OutboundMessage.objects.filter(
        state=MessageState.ACCEPTED, dispatched_at__isnull=False, dispatched_at__lt=cutoff
    )
    if dry_run:
        report.abandoned = abandoned.count()
    else:
        report.abandoned = abandoned.update(
            state=MessageState.UNKNOWN,
            error_message="Dispatch did not finish",
            error_details="The process stopped during the call; the request may have reached Sinch. It was not re-sent.",
            state_changed_at=timezone.now(),
            updated_at=timezone.now(),
        )
    # "delivered" counts as settled here: many users never send read receipts.
    stuck = (
        OutboundMessage.objects.filter(state__in=UNSETTLED_STATES)
        .filter(sinch_message_id__isnull=False, created_at__lt=cutoff, bot__is_active=True)
        .select_related("bot")
        .order_by("updated_at")[:limit]  # least recently looked at first, so no message starves the others
    )
    if dry_run:
        report.checked = stuck.count()
        logger.info(report.summary())
        return report
    rows = list(stuck)
    advance = progress(len(rows)) if progress is not None else None
    for message in rows:
        if advance is not None:
            advance(1)
        report.checked += 1
        before = message.state
        try:
            results = client_for_bot(message.bot).stored_status_callbacks(message.sinch_message_id or "")
        except (SinchAPIError, SecretDecryptionError) as err:
            report.errors.append(f"{message.pk}: {err}")
            continue
        with transaction.atomic():
            for payload in results:
                try:
                    parsed = parse_callback(payload)
                except CallbackParseError:
                    continue
                for update in parsed.statuses:
                    if update.message_id == message.sinch_message_id:
                        apply_status(message.bot, update)
        message.refresh_from_db(fields=["state"])
        if message.state != before:
            report.changed += 1
        else:
            OutboundMessage.objects.filter(pk=message.pk).update(updated_at=timezone.now())
    logger.info(report.summary())
    return report
