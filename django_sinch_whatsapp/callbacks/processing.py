"""Stored callbacks -> model changes -> signals, set-based.

A callback's statuses and notifications are applied with a constant number of
queries whatever their count (DESIGN.md rule 7): the messages they name are
fetched (and locked) in one SELECT, the history is one ``INSERT ... ON
CONFLICT DO NOTHING RETURNING`` (so signals fire once per new row), states
advance in one UPDATE whose WHERE clause keeps the forward-only rule (a rank
comparison), and contacts and inbound messages are two set-based upserts.

Idempotent (unique constraints decide, not memory) and order-proof: a
message's state only moves forward; every report is kept in its history,
including those that arrive late or before the message is known (orphans).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Case, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.lookups import LessThan
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
from .bulk import column, excluded, insert_returning, quoted_column
from .events import CallbackParseError, InboundNotification, ParsedCallback, StatusUpdate
from .followups import schedule_after_inbound
from .parsing import parse_callback

if TYPE_CHECKING:
    from ..client.client import MessageStatus
    from ..models import Bot

logger = logging.getLogger("django_sinch_whatsapp.callbacks")

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


def prepare(payload: Any, *, unreadable_reason: str = "") -> Prepared:
    """Parse a payload and set aside entries that cannot be stored (ids too long for their column)."""
    if unreadable_reason:
        return Prepared(None, ProcessingState.UNINTERPRETED, f"Not readable: {unreadable_reason}")
    try:
        parsed = parse_callback(payload)
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
    note = f"{len(parsed.unreadable)} entries not understood" if parsed.unreadable else ""
    return Prepared(parsed, ProcessingState.PROCESSED, note, anomalies)


def apply_in_savepoint(event: CallbackEvent, prepared: Prepared) -> tuple[list[str], BaseException | None]:
    """Apply inside a savepoint of the caller's transaction; on failure roll back to it and record why.

    Returns the orphan ids (reports for messages not known yet) and the
    exception, if any. The row's failure is written in the caller's transaction.
    """
    if prepared.parsed is None:
        return [], None
    try:
        with transaction.atomic():
            return apply_parsed(event.bot, prepared.parsed, callback=event), None
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
    prepared = prepare(event.payload, unreadable_reason=_unreadable_reason(event))
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


def apply_parsed(bot: Bot, parsed: ParsedCallback, *, callback: CallbackEvent | None = None) -> list[str]:
    """Apply statuses and notifications (constant queries); returns the ids of new orphan reports."""
    orphans: list[str] = []
    if parsed.statuses:
        _, orphans = apply_statuses(bot, parsed.statuses, callback=callback)
    if parsed.notifications:
        profiles = {c.wa_id_e164: c.profile_name for c in parsed.contacts if c.profile_name}
        record_inbound_set(bot, parsed.notifications, callback=callback, profiles=profiles)
    return orphans


def _first_of_each(items: Iterable[Any], key: Any) -> list[Any]:
    """Items in arrival order, the first of each key: a callback may repeat an entry."""
    seen: dict[Any, Any] = {}
    for item in items:
        seen.setdefault(key(item), item)
    return list(seen.values())


# --- delivery reports ---------------------------------------------------------------------------


def apply_status(bot: Bot, update: StatusUpdate, *, callback: CallbackEvent | None = None) -> OutboundMessage | None:
    """Store one delivery report and move its message forward. Returns the message, if known."""
    with transaction.atomic():
        messages, _ = apply_statuses(bot, [update], callback=callback)
    return messages.get(update.message_id)


def apply_statuses(
    bot: Bot, updates: list[StatusUpdate], *, callback: CallbackEvent | None = None
) -> tuple[dict[str, OutboundMessage], list[str]]:
    """Store delivery reports and advance their messages. Call inside a transaction.

    Queries: one SELECT ... FOR UPDATE of the messages, one more when some ids
    are unknown (rows whose outcome was unknown may adopt them), one INSERT of
    history, one UPDATE of states when any moves. Returns the known messages
    by Sinch id and the ids of new reports whose message is not known yet.
    """
    unique = _first_of_each(updates, lambda u: (u.message_id, u.state[:40]))
    ids = list(dict.fromkeys(u.message_id for u in unique))
    messages = {
        m.sinch_message_id: m
        for m in OutboundMessage.objects.select_for_update().filter(bot=bot, sinch_message_id__in=ids).order_by("pk")
        if m.sinch_message_id
    }
    unknown = [u for u in unique if u.message_id not in messages]
    if unknown:
        messages.update(_adopt_unknown(bot, unknown))
    now = timezone.now()
    history = [
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
    inserted = {
        (sid, state): pk for pk, sid, state in insert_returning(history, returning=["id", "sinch_message_id", "state"])
    }
    for row in history:
        row.pk = inserted.get((row.sinch_message_id, row.state))
        row._state.adding = False
    known_but_stored_before = {r.sinch_message_id for r in history if r.pk is None and r.message is not None}
    if known_but_stored_before:
        # Reports stored as orphans by an earlier callback: their message is known now.
        _attach_history(bot, known_but_stored_before)

    changes = _plan_advances(messages, updates)
    _advance_all(changes, now)
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
    return messages, list(dict.fromkeys(orphans))


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


def _rank_of_state() -> Case:
    return Case(
        *[When(state=state, then=Value(rank)) for state, rank in STATE_RANK.items()],
        default=Value(-1),
        output_field=IntegerField(),
    )


def _advance_all(changes: dict[Any, tuple[OutboundMessage, str, StatusUpdate]], now: Any) -> None:
    """One UPDATE for every message that moves; the forward-only rule is in its WHERE clause too."""
    if not changes:
        return
    new_rank = Case(
        *[When(pk=pk, then=Value(STATE_RANK[update.state])) for pk, (_, _, update) in changes.items()],
        default=Value(-1),
        output_field=IntegerField(),
    )
    state = Case(*[When(pk=pk, then=Value(u.state)) for pk, (_, _, u) in changes.items()], default=F("state"))
    status = Case(
        *[When(pk=pk, then=Value(u.status[:16])) for pk, (_, _, u) in changes.items() if u.status],
        default=F("sinch_status"),
    )
    details = Case(
        *[When(pk=pk, then=Value(u.details)) for pk, (_, _, u) in changes.items() if u.details],
        default=F("state_details"),
    )
    moved = (
        OutboundMessage.objects.filter(pk__in=list(changes))
        .exclude(state__in=LOCKED_STATES)
        .filter(LessThan(_rank_of_state(), new_rank))
        .update(state=state, sinch_status=status, state_details=details, state_changed_at=now, updated_at=now)
    )
    if moved != len(changes):  # the rows are locked, so this means a bug, not a race
        logger.error("Expected %d messages to move forward, %d did", len(changes), moved)
    for message, _, update in changes.values():
        message.state = update.state
        message.state_changed_at = message.updated_at = now
        if update.status:
            message.sinch_status = update.status[:16]
        if update.details:
            message.state_details = update.details


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
        sinch_message_id=Case(*[When(pk=c.pk, then=Value(mid)) for mid, c in planned.items()]),
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


# --- inbound messages ---------------------------------------------------------------------------


def record_inbound(
    bot: Bot,
    notification: InboundNotification,
    *,
    callback: CallbackEvent | None = None,
    profiles: dict[str, str] | None = None,
) -> tuple[InboundMessage, bool]:
    """Store one inbound notification once; refresh the contact's 24-hour window."""
    with transaction.atomic():
        created = record_inbound_set(bot, [notification], callback=callback, profiles=profiles)
    if created:
        return created[0], True
    return InboundMessage.objects.get(bot=bot, sinch_message_id=notification.message_id), False


def record_inbound_set(
    bot: Bot,
    notifications: list[InboundNotification],
    *,
    callback: CallbackEvent | None = None,
    profiles: dict[str, str] | None = None,
) -> list[InboundMessage]:
    """Store inbound notifications once each, in two statements; returns the new ones.

    Contacts are upserted first (one ``INSERT ... ON CONFLICT DO UPDATE``): a
    profile name replaces the stored one when not empty, and the 24-hour
    window (whatsapp-message.md) moves to the newest non-error message's time,
    never back. A repeated notification carries the same time, so it changes
    nothing. Then the messages: ``INSERT ... ON CONFLICT DO NOTHING RETURNING``,
    and signals for the new ones only.
    """
    received = timezone.now()
    unique = _first_of_each(notifications, lambda n: n.message_id)
    contacts: dict[str, Contact] = {}
    for n in unique:
        number = (n.from_e164 or n.from_number)[:40]
        if not number:
            continue
        name = (n.profile_name or (profiles or {}).get(n.from_e164, ""))[:200]
        window = None if n.is_error else (n.timestamp or received)
        contact = contacts.get(number)
        if contact is None:
            contacts[number] = Contact(bot=bot, number=number, profile_name=name, last_inbound_at=window)
            continue
        contact.profile_name = name or contact.profile_name
        if window is not None and (contact.last_inbound_at is None or contact.last_inbound_at < window):
            contact.last_inbound_at = window
    contact_ids: dict[str, Any] = {}
    if contacts:
        name, last = column(Contact, "profile_name"), column(Contact, "last_inbound_at")
        new_name, new_last = excluded(Contact, "profile_name"), excluded(Contact, "last_inbound_at")
        keys = f"({quoted_column(Contact, 'bot')}, {quoted_column(Contact, 'number')})"
        conflict = (
            f"{keys} DO UPDATE SET "
            f"profile_name = CASE WHEN {new_name} <> '' THEN {new_name} ELSE {name} END, "
            f"last_inbound_at = CASE WHEN {new_last} IS NULL THEN {last} "
            f"WHEN {last} IS NULL OR {last} < {new_last} THEN {new_last} ELSE {last} END, "
            f"updated_at = {excluded(Contact, 'updated_at')}"
        )
        for pk, number in insert_returning(list(contacts.values()), conflict=conflict, returning=["id", "number"]):
            contact_ids[number] = pk
    rows = []
    for n in unique:
        rows.append(
            InboundMessage(
                bot=bot,
                contact_id=contact_ids.get((n.from_e164 or n.from_number)[:40]),
                sinch_message_id=n.message_id,
                from_number=n.from_number[:64],
                from_e164=n.from_e164[:64],
                to=n.to[:100],
                message_type=n.message_type[:32],
                text=n.text,
                content=n.message,
                replying_to_message_id=n.replying_to_message_id[:200],
                replying_to_from=n.replying_to_from[:64],
                forwarded=n.forwarded,
                frequently_forwarded=n.frequently_forwarded,
                referral=n.referral,
                sent_at=n.timestamp,
                received_at=received,
                callback=callback,
            )
        )
    new_ids = {sid: pk for pk, sid in insert_returning(rows, returning=["id", "sinch_message_id"])}
    created: list[InboundMessage] = []
    for row, n in zip(rows, unique, strict=True):
        if row.sinch_message_id not in new_ids:
            continue
        row.pk = new_ids[row.sinch_message_id]
        row._state.adding = False
        created.append(row)
        if n.is_error:
            signals.error_notification_received.send(sender=InboundMessage, message=row, event=n, details=n.text)
        else:
            signals.inbound_message_received.send(
                sender=InboundMessage, message=row, event=n, message_type=n.message_type
            )
        schedule_after_inbound(row)
    return created
