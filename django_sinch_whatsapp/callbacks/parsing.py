"""Sinch WhatsApp callback JSON -> normalized events (:mod:`.events`).

The wire contract is whatsapp-callback.md. This module is pure Python: no
models, no database. It is lenient inside a callback and strict about what a
callback is:

* :class:`~.events.CallbackParseError` is raised only when the payload is not
  a Sinch callback shape at all;
* inside a callback, an entry that cannot be read goes to
  ``ParsedCallback.unreadable`` and the others are still parsed;
* numbers are normalized to E.164 when possible and kept raw beside it; a
  number that does not parse never drops an entry (DESIGN.md, "Wire notes");
* a timestamp that does not parse becomes ``None``, not an error;
* message types and delivery states we do not know are kept as given.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ..phone import best_effort_e164
from .events import CallbackParseError, ContactProfile, InboundNotification, ParsedCallback, StatusUpdate

# whatsapp-callback.md: "type: Will always be `whatsapp`".
CALLBACK_TYPE = "whatsapp"
ENTRY_KEYS = ("statuses", "contacts", "notifications")

# whatsapp-callback.md, "Delivery report callback": the documented states.
# Processing decides what to do with others; parsing keeps any state as given.
DELIVERY_STATES = frozenset(
    {"queued", "dispatched", "sent", "delivered", "read", "deleted", "failed", "no_opt_in", "no_capability"}
)

# whatsapp-callback.md, "Media": image, document, audio, video, voice, sticker.
MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "voice", "sticker"})
KNOWN_MESSAGE_TYPES = frozenset({"text", "location", "contacts", "button", "interactive", "error"}) | MEDIA_TYPES

# More than six fractional digits ("...42.1234567Z") is valid ISO-8601 but
# beyond what datetime holds: keep the first six.
_LONG_FRACTION = re.compile(r"([.,]\d{6})\d+")


def parse_callback(payload: Any) -> ParsedCallback:
    """Read one callback (already JSON-decoded) into statuses, contacts and notifications.

    A callback may carry delivery reports and inbound messages together
    (whatsapp-callback.md, the note under the structure table).

    Raises :class:`CallbackParseError` only if ``payload`` is not a dict, has
    none of ``statuses``/``contacts``/``notifications``, or has a ``type``
    other than ``"whatsapp"``. Everything else is parsed or kept in
    ``unreadable``.
    """
    if not isinstance(payload, dict):
        raise CallbackParseError(f"a callback is a JSON object, not {type(payload).__name__}")
    if "type" in payload and payload["type"] != CALLBACK_TYPE:
        raise CallbackParseError(f"callback type is {payload['type']!r}, expected {CALLBACK_TYPE!r}")
    if not any(key in payload for key in ENTRY_KEYS):
        raise CallbackParseError("a callback has at least one of: statuses, contacts, notifications")

    unreadable: list[Any] = []
    statuses: list[StatusUpdate] = []
    for entry in _entries(payload, "statuses", unreadable):
        status = _parse_status(entry)
        if status is None:
            unreadable.append(entry)
        else:
            statuses.append(status)

    contacts: list[ContactProfile] = []
    for entry in _entries(payload, "contacts", unreadable):
        contact = _parse_contact(entry)
        if contact is None:
            unreadable.append(entry)
        else:
            contacts.append(contact)

    names_by_number = _profile_names(contacts)
    notifications: list[InboundNotification] = []
    for entry in _entries(payload, "notifications", unreadable):
        notification = _parse_notification(entry, names_by_number)
        if notification is None:
            unreadable.append(entry)
        else:
            notifications.append(notification)

    return ParsedCallback(
        statuses=statuses,
        contacts=contacts,
        notifications=notifications,
        unreadable=unreadable,
        raw=payload,
    )


def parse_timestamp(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO-8601 string, or ``None`` if it is not one.

    Accepts ``Z``/``z``, ``+02:00``/``+0200`` offsets and fractional seconds.
    A date without a time is not a timestamp; a time without an offset is read
    as UTC (the documented samples are all UTC, whatsapp-callback.md).
    """
    if not isinstance(value, str):
        return None
    text = value.strip().upper()  # "t" and "z" are allowed by RFC 3339, not by fromisoformat
    if len(text) < 11 or not any(separator in text for separator in "T "):
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _LONG_FRACTION.sub(r"\1", text)
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _entries(payload: dict[str, Any], key: str, unreadable: list[Any]) -> list[Any]:
    """The list under ``key``; a missing or null key is empty, any other non-list is unreadable."""
    value = payload.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    unreadable.append(value)
    return []


def _text(value: Any) -> str:
    """A string field as a string; numbers as their text; anything else (null, objects, booleans) as ""."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _required_text(entry: dict[str, Any], key: str) -> str:
    return _text(entry.get(key)).strip()


def _e164(raw: str) -> str:
    return best_effort_e164(raw) if raw.strip() else ""


def _parse_status(entry: Any) -> StatusUpdate | None:
    # whatsapp-callback.md, "Delivery report callback": status, state,
    # message_id, details, recipient, timestamp. Without message_id or state
    # there is nothing to apply the report to.
    if not isinstance(entry, dict):
        return None
    message_id = _required_text(entry, "message_id")
    state = _required_text(entry, "state")
    if not message_id or not state:
        return None
    recipient = _text(entry.get("recipient"))
    return StatusUpdate(
        message_id=message_id,
        state=state,
        status=_text(entry.get("status")),
        details=_text(entry.get("details")),
        recipient=recipient,
        recipient_e164=_e164(recipient),
        timestamp=parse_timestamp(entry.get("timestamp")),
        raw=entry,
    )


def _parse_contact(entry: Any) -> ContactProfile | None:
    # whatsapp-callback.md, "Contacts" and "Profile": wa_id and profile.name.
    if not isinstance(entry, dict):
        return None
    wa_id = _required_text(entry, "wa_id")
    if not wa_id:
        return None
    profile = entry.get("profile")
    name = _text(profile.get("name")) if isinstance(profile, dict) else ""
    return ContactProfile(wa_id=wa_id, wa_id_e164=_e164(wa_id), profile_name=name, raw=entry)


def _profile_names(contacts: list[ContactProfile]) -> dict[str, str]:
    """Normalized wa_id -> profile name; the first non-empty name for a number wins."""
    names: dict[str, str] = {}
    for contact in contacts:
        if contact.profile_name and contact.wa_id_e164 not in names:
            names[contact.wa_id_e164] = contact.profile_name
    return names


def _parse_notification(entry: Any, names_by_number: dict[str, str]) -> InboundNotification | None:
    # whatsapp-callback.md, "Notifications": from, to, replying_to,
    # message_id, message, timestamp, forwarded, frequently_forwarded, referral.
    if not isinstance(entry, dict):
        return None
    message_id = _required_text(entry, "message_id")
    if not message_id:
        return None
    message = entry.get("message")
    if not isinstance(message, dict):
        message = {}
    message_type = _text(message.get("type"))
    interactive_type, text = _summarize(message_type, message)

    # whatsapp-callback.md, "Context": the error sample's replying_to has no
    # message_id, so both fields are optional.
    replying_to = entry.get("replying_to")
    if not isinstance(replying_to, dict):
        replying_to = {}
    referral = entry.get("referral")

    from_number = _text(entry.get("from"))
    from_e164 = _e164(from_number)
    return InboundNotification(
        message_id=message_id,
        from_number=from_number,
        from_e164=from_e164,
        to=_text(entry.get("to")),
        message_type=message_type,
        message=message,
        text=text,
        interactive_type=interactive_type,
        replying_to_message_id=_text(replying_to.get("message_id")),
        replying_to_from=_text(replying_to.get("from")),
        # Booleans on the wire; anything other than JSON true means "not forwarded".
        forwarded=entry.get("forwarded") is True,
        frequently_forwarded=entry.get("frequently_forwarded") is True,
        # whatsapp-callback.md, "Referral": kept whole, referral_media included.
        referral=referral if isinstance(referral, dict) else None,
        timestamp=parse_timestamp(entry.get("timestamp")),
        profile_name=names_by_number.get(from_e164, "") if from_e164 else "",
        known_type=message_type in KNOWN_MESSAGE_TYPES,
        raw=entry,
    )


def _summarize(message_type: str, message: dict[str, Any]) -> tuple[str, str]:
    """``(interactive_type, text)`` for a ``message`` object: a readable one-line summary."""
    if message_type == "text":
        return "", _text(message.get("body"))
    if message_type == "location":
        return "", _location_text(message)
    if message_type == "contacts":
        return "", _contact_card_names(message.get("contacts"))
    if message_type in MEDIA_TYPES:
        # whatsapp-callback.md, "Media": caption; filename only for audio and document.
        return "", _text(message.get("caption")) or _text(message.get("filename"))
    if message_type == "button":
        # whatsapp-callback.md, "Quick reply button reply message": index, text, payload.
        return "", _text(message.get("text"))
    if message_type == "interactive":
        # whatsapp-callback.md, "Interactive button/list reply message": the reply
        # sits in a nested ``message`` whose type is ``button`` or ``list``.
        reply = message.get("message")
        if not isinstance(reply, dict):
            return "", ""
        return _text(reply.get("type")), _text(reply.get("title"))
    if message_type == "error":
        # whatsapp-callback.md, "Error notification": details.
        return "", _text(message.get("details"))
    return "", ""


def _location_text(message: dict[str, Any]) -> str:
    # whatsapp-callback.md, "Location message": name and address are optional
    # strings; latitude and longitude are numbers.
    parts = [part for part in (_text(message.get("name")), _text(message.get("address"))) if part.strip()]
    if parts:
        return ", ".join(parts)
    latitude, longitude = _text(message.get("latitude")), _text(message.get("longitude"))
    return f"{latitude}, {longitude}" if latitude and longitude else ""


def _contact_card_names(cards: Any) -> str:
    # whatsapp-callback.md, "Contact name": formatted_name, else first/last name.
    if not isinstance(cards, list):
        return ""
    names: list[str] = []
    for card in cards:
        name = card.get("name") if isinstance(card, dict) else None
        if not isinstance(name, dict):
            continue
        formatted = _text(name.get("formatted_name")).strip()
        if not formatted:
            formatted = " ".join(
                part for part in (_text(name.get("first_name")).strip(), _text(name.get("last_name")).strip()) if part
            )
        if formatted:
            names.append(formatted)
    return ", ".join(names)
