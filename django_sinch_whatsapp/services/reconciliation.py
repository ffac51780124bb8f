"""Settle messages a missed webhook left unresolved, by asking Sinch through the bot's transport.

The standalone API keeps the delivery reports of each message (whatsapp-callback-store.md,
``GET /callbacks/status/{message-id}``); the Conversation API answers
``GET /messages/{id}`` (the message was accepted; it keeps no delivery state).
Messages still short of a final state after a while are looked up and what
comes back is applied as if it had arrived as callbacks (idempotent, order-proof). Rows recorded but never
dispatched (the process died between commit and send) are dispatched again:
their ``dispatched_at`` is empty, so nothing can have reached Sinch.

Rows in state ``unknown`` without a Sinch id (the call timed out, or the
worker died during it) cannot be looked up: the callback store is keyed by
Sinch's message id. A delivery report for the same recipient settles them
(``callbacks.processing`` adopts it); where the bot's transport can tell,
reconciliation confirms that Sinch never took one (:mod:`.lost_sends`), and
the row may then be retried. ``unknown_without_sinch_id`` counts them so the
command and the admin can show how many wait, since when, and how many are
confirmed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from ..callbacks.processing import apply_status
from ..clients import transport_for_bot
from ..dispatch import deliver_batch
from ..exceptions import SecretDecryptionError, SinchAPIError
from ..models import MessageState, OutboundMessage
from ..transports.errors import FeatureNotSupported
from .lost_sends import confirm_lost_sends

logger = logging.getLogger("django_sinch_whatsapp.reconciliation")

UNSETTLED_STATES = (MessageState.QUEUED, MessageState.DISPATCHED, MessageState.SENT, MessageState.UNKNOWN)


@dataclass
class ReconcileReport:
    checked: int = 0
    changed: int = 0
    redispatched_batches: int = 0
    abandoned: int = 0
    #: Unknown rows without a Sinch id now known never to have reached Sinch (they may be retried).
    confirmed_absent: int = 0
    errors: list[str] = field(default_factory=list)
    #: After the run: rows reconciliation cannot settle (unknown, no Sinch id).
    without_sinch_id: UnsettleableSummary | None = None
    dry_run: bool = False

    def summary(self) -> str:
        """The one line a run is reported with (the log and the management command say the same)."""
        if self.dry_run:
            return (
                f"Dry run: would re-dispatch {self.redispatched_batches} batch(es), mark {self.abandoned} "
                f"unfinished dispatch(es) unknown, look up {self.checked} message(s) and confirm "
                f"{self.confirmed_absent} unknown message(s) absent at Sinch; nothing was changed."
            )
        return (
            f"Checked {self.checked}, changed {self.changed}, re-dispatched {self.redispatched_batches} batch(es), "
            f"marked {self.abandoned} unfinished dispatch(es) unknown, confirmed {self.confirmed_absent} unknown "
            f"message(s) absent at Sinch, {len(self.errors)} error(s)."
        )


@dataclass(frozen=True)
class UnsettleableSummary:
    """Unknown rows that have no Sinch id: how many, the oldest one's recording time, how many are confirmed."""

    count: int
    oldest_created_at: datetime | None
    #: Of ``count``, those reconciliation confirmed Sinch never took (they may be retried).
    absent_confirmed: int = 0

    @property
    def oldest_age(self) -> timedelta | None:
        return None if self.oldest_created_at is None else timezone.now() - self.oldest_created_at


def unknown_without_sinch_id(messages: QuerySet[OutboundMessage] | None = None) -> UnsettleableSummary:
    """Count the ``unknown`` rows without a Sinch id in ``messages`` (all by default; pass a tenant's scope).

    One aggregate query. These rows may or may not have reached the recipient;
    reconciliation cannot ask Sinch about them by id: a delivery report for the
    same recipient settles them, or :mod:`.lost_sends` confirms Sinch never took them.
    """
    base = OutboundMessage.objects.all() if messages is None else messages
    found = base.filter(state=MessageState.UNKNOWN, sinch_message_id__isnull=True).aggregate(
        count=Count("pk"), oldest=Min("created_at"), confirmed=Count("pk", filter=Q(absent_confirmed_at__isnull=False))
    )
    return UnsettleableSummary(
        count=found["count"], oldest_created_at=found["oldest"], absent_confirmed=found["confirmed"]
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
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=timezone.now()))  # deferred by the messaging tier
        .order_by()  # without it the model's ordering (created_at) joins the DISTINCT: one id per row, not per batch
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
    lost = confirm_lost_sends(cutoff=cutoff, limit=limit, dry_run=dry_run)
    report.confirmed_absent = lost.confirmed_absent
    report.errors += lost.errors
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
            updates = transport_for_bot(message.bot).lookup_statuses(message.sinch_message_id or "")
        except (SinchAPIError, SecretDecryptionError, FeatureNotSupported) as err:
            report.errors.append(f"{message.pk}: {err}")
            continue
        with transaction.atomic():
            for update in updates:
                apply_status(message.bot, update)
        message.refresh_from_db(fields=["state"])
        if message.state != before:
            report.changed += 1
        else:
            OutboundMessage.objects.filter(pk=message.pk).update(updated_at=timezone.now())
    report.without_sinch_id = unknown_without_sinch_id()
    logger.info(report.summary())
    return report
