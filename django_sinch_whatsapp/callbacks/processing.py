"""Stored callbacks -> model changes -> signals.

Idempotent (unique constraints decide, not memory) and order-proof: a
message's current state only moves forward; every report is kept in its
history, including those that arrive late or before the message is known.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .. import signals
from ..models import (
    LOCKED_STATES,
    STATE_RANK,
    CallbackEvent,
    Contact,
    InboundMessage,
    MessageState,
    OutboundMessage,
    ProcessingState,
    StatusEvent,
)
from .events import CallbackParseError, InboundNotification, StatusUpdate
from .followups import schedule_after_inbound
from .parsing import parse_callback

if TYPE_CHECKING:
    from ..client.client import MessageStatus
    from ..models import Bot

logger = logging.getLogger("django_sinch_whatsapp.callbacks")


def process_callback_event(event: CallbackEvent) -> str:
    """Apply a stored callback; record the outcome on the row. Returns the processing state.

    Exceptions are recorded (with traceback) on the row and re-raised, so the
    webhook answers 5xx and Sinch retries.
    """
    event.attempts += 1
    try:
        parsed = parse_callback(event.payload)
    except CallbackParseError as err:
        _finish(event, ProcessingState.UNINTERPRETED, f"Not a Sinch WhatsApp callback: {err}")
        return event.processing_state
    new_status_ids: list[str] = []
    try:
        with transaction.atomic():
            for update in parsed.statuses:
                if apply_status(event.bot, update, callback=event) is None:
                    new_status_ids.append(update.message_id)
            profiles = {c.wa_id_e164: c.profile_name for c in parsed.contacts if c.profile_name}
            for notification in parsed.notifications:
                record_inbound(event.bot, notification, callback=event, profiles=profiles)
            note = f"{len(parsed.unreadable)} entries not understood" if parsed.unreadable else ""
            # In the same transaction: the row says "processed" exactly when the changes are there.
            _finish(event, ProcessingState.PROCESSED, note)
    except Exception as err:
        _finish(event, ProcessingState.FAILED, traceback.format_exc())
        signals.callback_processing_failed.send(sender=CallbackEvent, callback_event=event, exception=err)
        raise
    if new_status_ids:
        # The send may have committed its Sinch ids while we stored these.
        attach_orphan_statuses(event.bot, new_status_ids)
    return event.processing_state


def _finish(event: CallbackEvent, state: str, error: str) -> None:
    event.processing_state = state
    event.processing_error = error
    event.processed_at = timezone.now()
    event.save(update_fields=["processing_state", "processing_error", "processed_at", "attempts"])


def apply_status(bot: Bot, update: StatusUpdate, *, callback: CallbackEvent | None = None) -> OutboundMessage | None:
    """Store one delivery report and move its message forward. Returns the message, if known."""
    message = OutboundMessage.objects.select_for_update().filter(bot=bot, sinch_message_id=update.message_id).first()
    if message is None:
        message = _adopt_unknown(bot, update)
    status_event, created = _store_status_event(bot, update, message, callback)
    if message is not None:
        if not created and status_event.message_id is None:
            StatusEvent.objects.filter(pk=status_event.pk).update(message=message)
        _advance(message, update.state, update)
    if created:
        signals.status_received.send(sender=StatusEvent, status_event=status_event, event=update, message=message)
    return message


def _adopt_unknown(bot: Bot, update: StatusUpdate) -> OutboundMessage | None:
    """A report for an id we never learnt: the answer to a send whose outcome was unknown.

    A read timeout leaves rows ``unknown`` without Sinch ids; the first report
    for the same recipient settles the oldest such row.
    """
    wire = (update.recipient_e164 or update.recipient).lstrip("+")
    if not wire:
        return None
    in_flight = OutboundMessage.objects.filter(
        bot=bot, recipient=wire, state=MessageState.ACCEPTED, dispatched_at__isnull=False
    ).exists()
    if in_flight:
        # The report may be the answer to that send, whose id is not saved yet: keep it as an orphan.
        return None
    candidate = (
        OutboundMessage.objects.select_for_update()
        .filter(bot=bot, recipient=wire, state=MessageState.UNKNOWN, sinch_message_id__isnull=True)
        .order_by("dispatched_at", "created_at")
        .first()
    )
    if candidate is None:
        return None
    candidate.sinch_message_id = update.message_id
    candidate.save(update_fields=["sinch_message_id", "updated_at"])
    logger.info("Message %s (outcome was unknown) settled by a report for %s", candidate.pk, update.message_id)
    return candidate


def _store_status_event(
    bot: Bot, update: StatusUpdate, message: OutboundMessage | None, callback: CallbackEvent | None
) -> tuple[StatusEvent, bool]:
    defaults = {
        "message": message,
        "status": update.status[:16],
        "details": update.details,
        "recipient": update.recipient[:64],
        "occurred_at": update.timestamp,
        "callback": callback,
        "raw": update.raw,
    }
    try:
        with transaction.atomic():
            return StatusEvent.objects.get_or_create(
                bot=bot, sinch_message_id=update.message_id, state=update.state[:40], defaults=defaults
            )
    except IntegrityError:
        # A concurrent delivery of the same report won the race.
        return StatusEvent.objects.get(bot=bot, sinch_message_id=update.message_id, state=update.state[:40]), False


def _advance(message: OutboundMessage, new_state: str, update: StatusUpdate | None) -> bool:
    current = message.state
    if current in LOCKED_STATES or STATE_RANK.get(new_state, -1) <= STATE_RANK.get(current, -1):
        return False
    message.state = new_state
    message.state_changed_at = timezone.now()
    fields = ["state", "state_changed_at", "updated_at"]
    if update is not None:
        if update.status:
            message.sinch_status = update.status[:16]
            fields.append("sinch_status")
        if update.details:
            message.state_details = update.details
            fields.append("state_details")
    message.save(update_fields=fields)
    signals.message_status_changed.send(sender=OutboundMessage, message=message, event=update, previous_state=current)
    return True


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
    """Attach reports that arrived before their message's Sinch id was saved."""
    ids = [i for i in sinch_message_ids if i]
    if not ids:
        return 0
    attached = 0
    with transaction.atomic():
        orphans = list(
            StatusEvent.objects.filter(bot=bot, sinch_message_id__in=ids, message__isnull=True).order_by("id")
        )
        if not orphans:
            return 0
        messages = {
            m.sinch_message_id: m
            for m in OutboundMessage.objects.select_for_update().filter(bot=bot, sinch_message_id__in=ids)
        }
        for orphan in orphans:
            message = messages.get(orphan.sinch_message_id)
            if message is None:
                continue
            StatusEvent.objects.filter(pk=orphan.pk).update(message=message)
            update = StatusUpdate(
                message_id=orphan.sinch_message_id,
                state=orphan.state,
                status=orphan.status,
                details=orphan.details,
                recipient=orphan.recipient,
                timestamp=orphan.occurred_at,
                raw=orphan.raw,
            )
            _advance(message, orphan.state, update)
            attached += 1
    return attached


def record_inbound(
    bot: Bot,
    notification: InboundNotification,
    *,
    callback: CallbackEvent | None = None,
    profiles: dict[str, str] | None = None,
) -> tuple[InboundMessage, bool]:
    """Store one inbound notification once; refresh the contact's 24-hour window."""
    received = timezone.now()
    sent_at = notification.timestamp or received
    profile_name = notification.profile_name or (profiles or {}).get(notification.from_e164, "")
    contact = None
    if notification.from_e164 or notification.from_number:
        contact = _touch_contact(bot, notification.from_e164 or notification.from_number, profile_name)
    defaults: dict[str, Any] = {
        "contact": contact,
        "from_number": notification.from_number[:64],
        "from_e164": notification.from_e164[:64],
        "to": notification.to[:100],
        "message_type": notification.message_type[:32],
        "text": notification.text,
        "content": notification.message,
        "replying_to_message_id": notification.replying_to_message_id[:200],
        "replying_to_from": notification.replying_to_from[:64],
        "forwarded": notification.forwarded,
        "frequently_forwarded": notification.frequently_forwarded,
        "referral": notification.referral,
        "sent_at": notification.timestamp,
        "callback": callback,
    }
    try:
        with transaction.atomic():
            message, created = InboundMessage.objects.get_or_create(
                bot=bot, sinch_message_id=notification.message_id, defaults=defaults
            )
    except IntegrityError:
        message, created = InboundMessage.objects.get(bot=bot, sinch_message_id=notification.message_id), False
    if created and contact is not None and not notification.is_error:
        # whatsapp-message.md: every inbound message starts a new 24-hour window.
        Contact.objects.filter(pk=contact.pk).filter(
            Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=sent_at)
        ).update(last_inbound_at=sent_at, updated_at=received)
    if created and notification.is_error:
        signals.error_notification_received.send(
            sender=InboundMessage, message=message, event=notification, details=notification.text
        )
    elif created:
        signals.inbound_message_received.send(
            sender=InboundMessage, message=message, event=notification, message_type=notification.message_type
        )
    if created:
        schedule_after_inbound(message)
    return message, created


def _touch_contact(bot: Bot, number: str, profile_name: str) -> Contact:
    try:
        with transaction.atomic():
            contact, _ = Contact.objects.get_or_create(bot=bot, number=number[:40])
    except IntegrityError:
        contact = Contact.objects.get(bot=bot, number=number[:40])
    if profile_name and contact.profile_name != profile_name:
        Contact.objects.filter(pk=contact.pk).update(profile_name=profile_name[:200])
        contact.profile_name = profile_name[:200]
    return contact
