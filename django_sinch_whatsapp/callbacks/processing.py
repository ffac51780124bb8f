"""Stored callbacks -> model changes -> signals, in the callback's own transaction.

:func:`prepare` reads a payload into events before any query (pure Python);
:func:`apply_in_savepoint` applies them inside a savepoint of the transaction
that INSERTed the callback, so a failure rolls back to it and is recorded on
the stored row (DESIGN.md rule 5). The work itself is set-based, a constant
number of queries whatever a callback holds: :mod:`.statuses`, :mod:`.inbound` and
:mod:`.contacts` (capability answers and consent changes).

Idempotent (unique constraints decide, not memory) and order-proof.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from .. import savepoints, signals
from ..models import CallbackEvent, InboundMessage, OutboundMessage, ProcessingState, StatusEvent
from .contacts import applicable_capability, applicable_consent, apply_capabilities, apply_consents
from .events import CallbackParseError, ParsedCallback
from .inbound import record_inbound, record_inbound_set
from .parsing import parse_callback
from .statuses import (
    ReportsOfAnotherBot,
    apply_status,
    apply_statuses,
    attach_if_known,
    attach_orphan_statuses,
    messages_to_lock,
    record_send_statuses,
    statuses_sent_ahead,
)

if TYPE_CHECKING:
    from ..models import Bot

__all__ = [
    "Prepared",
    "ReportsOfAnotherBot",
    "apply_in_savepoint",
    "apply_parsed",
    "apply_status",
    "apply_statuses",
    "attach_if_known",
    "attach_orphan_statuses",
    "messages_to_lock",
    "prepare",
    "process_callback_event",
    "record_inbound",
    "record_inbound_set",
    "record_send_statuses",
    "statuses_sent_ahead",
]

logger = logging.getLogger("django_sinch_whatsapp.callbacks")

#: Finishes statuses whose first statement the caller ran: their messages by Sinch id, the orphan ids.
FinishStatuses = Callable[[], tuple[dict[str, OutboundMessage], list[str]]]

# Column sizes an id must fit; longer ids are kept in the raw payload and flagged, never truncated
# (a truncated id could match another message).
STATUS_ID_CHARS = StatusEvent._meta.get_field("sinch_message_id").max_length or 100
INBOUND_ID_CHARS = InboundMessage._meta.get_field("sinch_message_id").max_length or 200


@dataclass
class Prepared:
    """A stored payload read into events, before any query: what state the row will have."""

    parsed: ParsedCallback | None
    state: str
    note: str
    anomalies: list[str] = field(default_factory=list)


def prepare(
    payload: Any, *, unreadable_reason: str = "", parse: Callable[[Any], ParsedCallback] = parse_callback
) -> Prepared:
    """Parse a payload with the bot's transport's ``parse`` and set aside entries that cannot be stored
    (ids too long for their column)."""
    if unreadable_reason:
        return Prepared(None, ProcessingState.UNINTERPRETED, f"Not readable: {unreadable_reason}")
    try:
        parsed = parse(payload)
    except CallbackParseError as err:
        return Prepared(None, ProcessingState.UNINTERPRETED, f"Not a Sinch WhatsApp callback: {err}")
    anomalies: list[str] = []
    statuses = []
    for index, status in enumerate(parsed.statuses):
        if len(status.message_id) > STATUS_ID_CHARS:
            anomalies.append(f"statuses: entry {index} has a message_id over {STATUS_ID_CHARS} characters; not applied")
            parsed.unreadable.append(status.raw)
        else:
            statuses.append(status)
    notifications = []
    for index, notification in enumerate(parsed.notifications):
        if len(notification.message_id) > INBOUND_ID_CHARS:
            anomalies.append(
                f"notifications: entry {index} has a message_id over {INBOUND_ID_CHARS} characters; not applied"
            )
            parsed.unreadable.append(notification.raw)
        else:
            notifications.append(notification)
    parsed.statuses[:] = statuses
    parsed.notifications[:] = notifications
    notes = [f"{len(parsed.unreadable)} entries not understood"] if parsed.unreadable else []
    notes += _surfaced(parsed)
    return Prepared(parsed, ProcessingState.PROCESSED, "; ".join(notes), anomalies)


def _surfaced(parsed: ParsedCallback) -> list[str]:
    """What a callback carries that is kept but not applied (app events; answers naming no phone number,
    consent of a channel without opt-in): said on the stored row."""
    notes = []
    skipped = [c for c in parsed.capabilities if not applicable_capability(c)]
    if skipped:
        notes.append(f"{len(skipped)} capability answer(s) naming no phone number stored, not applied")
    for consent in parsed.consents:
        if not applicable_consent(consent):
            status = consent.status or "no status"
            notes.append(f"{consent.kind or 'consent'} notification ({status}) stored, not applied")
    app_events = getattr(parsed, "app_events", None)  # a transport's own events, beyond the normalized ones
    if app_events:
        notes.append(f"{len(app_events)} app events stored, not applied")
    return notes


def apply_in_savepoint(
    event: CallbackEvent,
    prepared: Prepared,
    *,
    savepoint_name: str = "",
    statuses: FinishStatuses | None = None,
) -> tuple[list[str], BaseException | None]:
    """Apply inside a savepoint of the caller's transaction; on failure roll back to it and record why.

    ``savepoint_name``: the caller already created it, and ``statuses``: it already
    ran the statuses' first statement in it (the webhook sends both with the
    callback's INSERT: :func:`.statuses.statuses_sent_ahead`) and this finishes
    them; otherwise they happen here. Returns the orphan ids
    (reports for messages not known yet) and the exception, if any. The row's
    failure is written in the caller's transaction.
    """
    if prepared.parsed is None:
        return [], None
    try:
        with savepoints.savepoint(savepoint_name or savepoints.new_name(), created=bool(savepoint_name)):
            return apply_parsed(event.bot, prepared.parsed, callback=event, statuses=statuses), None
    except ReportsOfAnotherBot:
        raise  # not a failure to record: the caller refuses the whole callback
    except Exception as err:
        logger.exception("Processing callback %s failed", event.pk)
        _finish(event, ProcessingState.FAILED, traceback.format_exc())
        signals.callback_processing_failed.send(sender=CallbackEvent, callback_event=event, exception=err)
        return [], err


def process_callback_event(event: CallbackEvent) -> str:
    """Apply a stored callback again (the admin, the reprocess command, a retried nonce).

    Idempotent. Exceptions are recorded (with traceback) on the row and
    re-raised, so the webhook answers 5xx and Sinch retries.
    """
    from ..clients import verifier_for_bot

    parse = verifier_for_bot(event.bot).parse_callback
    prepared = prepare(event.payload, unreadable_reason=_unreadable_reason(event), parse=parse)
    with transaction.atomic():
        event.attempts += 1
        orphans, error = apply_in_savepoint(event, prepared)
        if error is None:
            _finish(event, prepared.state, prepared.note)
    if error is not None:
        raise error
    attach_if_known(event.bot, orphans)
    return event.processing_state


def _unreadable_reason(event: CallbackEvent) -> str:
    if event.payload is None and event.anomalies and bytes(event.body).strip() != b"null":
        return str(event.anomalies[0])
    return ""


def _finish(event: CallbackEvent, state: str, error: str) -> None:
    event.processing_state = state
    event.processing_error = error
    event.processed_at = timezone.now()
    event.save(update_fields=["processing_state", "processing_error", "processed_at", "attempts"])


def apply_parsed(
    bot: Bot,
    parsed: ParsedCallback,
    *,
    callback: CallbackEvent | None = None,
    statuses: FinishStatuses | None = None,
) -> list[str]:
    """Apply statuses, notifications, capability answers and consent changes (constant queries);
    returns the ids of new orphan reports. ``statuses``: finishes the statuses begun by the caller."""
    orphans: list[str] = []
    if statuses is not None:
        _, orphans = statuses()
    elif parsed.statuses:
        _, orphans = apply_statuses(bot, parsed.statuses, callback=callback)
    if parsed.notifications:
        profiles = {c.wa_id_e164: c.profile_name for c in parsed.contacts if c.profile_name}
        record_inbound_set(bot, parsed.notifications, callback=callback, profiles=profiles)
    if parsed.capabilities:
        apply_capabilities(bot, parsed.capabilities)
    if parsed.consents:
        apply_consents(bot, parsed.consents)
    return orphans
