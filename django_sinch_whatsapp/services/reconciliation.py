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
from ..models import FINAL_STATES, MessageState, OutboundMessage

logger = logging.getLogger("django_sinch_whatsapp.reconciliation")


@dataclass
class ReconcileReport:
    checked: int = 0
    changed: int = 0
    redispatched_batches: int = 0
    errors: list[str] = field(default_factory=list)


def reconcile(*, older_than: timedelta = timedelta(minutes=15), limit: int = 500) -> ReconcileReport:
    """Look up unsettled messages older than ``older_than`` (at most ``limit`` per run)."""
    report = ReconcileReport()
    cutoff = timezone.now() - older_than
    never_sent = (
        OutboundMessage.objects.filter(state=MessageState.ACCEPTED, dispatched_at__isnull=True, created_at__lt=cutoff)
        .values_list("batch_id", flat=True)
        .distinct()
    )
    for batch_id in list(never_sent[:limit]):
        deliver_batch(batch_id)
        report.redispatched_batches += 1
    stuck = (
        OutboundMessage.objects.exclude(state__in=FINAL_STATES)
        .exclude(state=MessageState.ACCEPTED)
        .filter(sinch_message_id__isnull=False, created_at__lt=cutoff, bot__is_active=True)
        .select_related("bot")
        .order_by("created_at")[:limit]
    )
    for message in stuck:
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
    logger.info(
        "Reconciled %d message(s): %d changed, %d batch(es) re-dispatched, %d error(s)",
        report.checked,
        report.changed,
        report.redispatched_batches,
        len(report.errors),
    )
    return report
