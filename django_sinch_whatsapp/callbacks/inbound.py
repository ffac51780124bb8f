"""Inbound notifications -> contacts and inbound messages, in two set-based statements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from .. import signals
from ..models import CallbackEvent, Contact, InboundMessage
from .bulk import column, excluded, insert_returning, quoted_column
from .events import InboundNotification
from .followups import schedule_after_inbound
from .statuses import first_of_each

if TYPE_CHECKING:
    from ..models import Bot


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
    unique = first_of_each(notifications, lambda n: n.message_id)
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
