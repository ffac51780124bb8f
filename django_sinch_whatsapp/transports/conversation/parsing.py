"""Conversation API callbacks -> normalized events (conversation-callbacks.md; docs README "Callbacks").

The kind of a callback is told by its top-level key. Every valid JSON body
parses: what we cannot read is kept in ``unreadable`` (and ``trigger`` says
what it was), never an exception. Unknown members are ignored (newer payloads
add ``message_metadata``, ``correlation_id``, ``processing_mode`` ...).

Delivery statuses (``message_delivery_report.status``) map to our states:

========================  ===============  ===================================================
Sinch status              our state        why
========================  ===============  ===================================================
QUEUED                    queued           accepted by the Conversation API (no callback is
                                           documented for it; mapped if one comes)
QUEUED_ON_CHANNEL         dispatched       handed to WhatsApp, not yet on the phone
DELIVERED                 delivered
READ                      read             may come without DELIVERED (implicit), terminal
FAILED                    failed           terminal; ``reason`` {code, sub_code, description}
FAILED with               no_opt_in        as the legacy ``no_opt_in`` state
RECIPIENT_NOT_OPTED_IN
SWITCHING_CHANNEL         queued           Sinch tries another channel; we only allow
                                           WHATSAPP, so it never moves a state forward
anything else             lower-cased      kept as given; processing decides
========================  ===============  ===================================================

The state machine's rank comparison (above the seam) keeps a late DELIVERED
from moving a READ message back.

Inbound ``message.contact_message`` becomes an ``InboundNotification`` whose
``message`` has the legacy shape, so processing and media download need no
branch: ``text_message`` -> ``text`` (``body``); ``media_message`` and
``media_card_message`` -> ``image``/``video``/``audio``/``document`` by the URL's
extension (the Conversation API does not say), with ``url`` and ``caption``;
``location_message`` -> ``location``; ``choice_response_message`` ->
``interactive`` with ``interactive_type`` ``choice`` and the ``postback_data``
(our button or row id) as ``message.message.id``; ``contact_info_message`` ->
``contacts``; ``fallback_message`` and unknown kinds -> ``known_type=False``.
The original content is kept under ``message["conversation"]``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ...callbacks.events import CapabilityNotification, ConsentNotification, ContactProfile, InboundNotification
from ..events import AppEventNotification, ConversationCallback, ConversationStatusUpdate

STATE_BY_STATUS = {
    "QUEUED": "queued",
    "QUEUED_ON_CHANNEL": "dispatched",
    "DELIVERED": "delivered",
    "READ": "read",
    "FAILED": "failed",
    "SWITCHING_CHANNEL": "queued",
}
STATE_BY_FAILURE_CODE = {"RECIPIENT_NOT_OPTED_IN": "no_opt_in"}
#: conversation-capability.md, "Capability Notification": reachable, not, or the channel does not say (None).
CAPABLE_BY_STATUS: dict[str, bool | None] = {
    "CAPABILITY_FULL": True,
    "CAPABILITY_PARTIAL": True,
    "NO_CAPABILITY": False,
    "CAPABILITY_UNKNOWN": None,
}
#: Channels whose identity is a phone number (conversation-callbacks.md, "Channel Identity").
PHONE_CHANNELS = frozenset({"WHATSAPP", "SMS", "RCS", "MMS", "VIBERBM"})
TRIGGERS = (
    "message_delivery_report",
    "message",
    "event",
    "capability_notification",
    "opt_in_notification",
    "opt_out_notification",
)
_EXTENSIONS = {
    "image": (".jpg", ".jpeg", ".png", ".webp", ".gif"),
    "video": (".mp4", ".3gp", ".3gpp", ".mov"),
    "audio": (".mp3", ".ogg", ".opus", ".aac", ".amr", ".m4a", ".wav"),
}


def parse_callback(payload: Any) -> ConversationCallback:
    """Normalized events of one callback body (already JSON-decoded)."""
    if not isinstance(payload, dict):
        return ConversationCallback(unreadable=[payload], raw={"body": payload})
    trigger = next((key for key in TRIGGERS if isinstance(payload.get(key), dict)), "")
    when = _timestamp(payload.get("event_time")) or _timestamp(payload.get("accepted_time"))
    if not trigger:
        # CONVERSATION_START/STOP, CONTACT_*, UNSUPPORTED, CHANNEL_EVENT, event_delivery_report ...
        known = next((key for key, value in payload.items() if isinstance(value, dict)), "")
        return ConversationCallback(unreadable=[payload], trigger=known, raw=payload)
    entry = payload[trigger]
    if trigger == "message_delivery_report":
        status = _status(entry, payload, when)
        if status is None:
            return ConversationCallback(unreadable=[entry], trigger=trigger, raw=payload)
        return ConversationCallback(statuses=[status], trigger=trigger, raw=payload)
    if trigger == "message":
        inbound = _inbound(entry, when)
        if inbound is None:
            return ConversationCallback(unreadable=[entry], trigger=trigger, raw=payload)
        contact = ContactProfile(inbound.from_number, inbound.from_e164, raw=_contact_raw(entry))
        return ConversationCallback(contacts=[contact], notifications=[inbound], trigger=trigger, raw=payload)
    if trigger == "capability_notification":
        capability = _capability(entry, when)
        if capability is None:
            return ConversationCallback(unreadable=[entry], trigger=trigger, raw=payload)
        return ConversationCallback(capabilities=[capability], trigger=trigger, raw=payload)
    if trigger == "event":
        return ConversationCallback(app_events=[_event(entry, when)], trigger=trigger, raw=payload)
    consent = _consent(trigger, entry, when)
    return ConversationCallback(consents=[consent], trigger=trigger, raw=payload)


# -- helpers --------------------------------------------------------------------------------------------------


def _obj(container: dict[str, Any], key: str) -> dict[str, Any]:
    """``container[key]`` when it is a JSON object, else an empty one."""
    value = container.get(key)
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value)


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    # Sinch writes up to nine fractional digits; fromisoformat takes at most six.
    if "." in text:
        head, _, rest = text.partition(".")
        count = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:count][:6]}{rest[count:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    # Sinch's timestamps are UTC; a zone-less one is read as UTC too.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _identity(entry: dict[str, Any]) -> tuple[str, str, str]:
    """``(identity, e164, channel)`` of a callback's ``channel_identity`` (or flat ``identity``/``channel``)."""
    identity = _obj(entry, "channel_identity") or entry
    number, channel = _text(identity.get("identity")), _text(identity.get("channel"))
    digits = number.lstrip("+")
    e164 = f"+{digits}" if channel in PHONE_CHANNELS and digits.isdigit() else ""
    return number, e164, channel


def _contact_raw(entry: dict[str, Any]) -> dict[str, Any]:
    return {"contact_id": entry.get("contact_id"), "channel_identity": entry.get("channel_identity")}


def _status(entry: dict[str, Any], payload: dict[str, Any], when: datetime | None) -> ConversationStatusUpdate | None:
    message_id, status = _text(entry.get("message_id")), _text(entry.get("status"))
    if not message_id or not status:
        return None
    reason = _obj(entry, "reason")
    state = STATE_BY_STATUS.get(status, status.lower())
    if status == "FAILED":
        state = STATE_BY_FAILURE_CODE.get(_text(reason.get("code")), state)
    details = ""
    if reason:
        code = "/".join(part for part in (_text(reason.get("code")), _text(reason.get("sub_code"))) if part)
        details = ": ".join(part for part in (code, _text(reason.get("description"))) if part)
    number, e164, _ = _identity(entry)
    # Our row id travels as correlation_id (top level, newer payloads) and as the message metadata.
    correlation = (
        _text(payload.get("correlation_id")) or _text(entry.get("metadata")) or _text(payload.get("message_metadata"))
    )
    return ConversationStatusUpdate(
        message_id=message_id,
        state=state,
        status=status,
        details=details,
        recipient=number,
        recipient_e164=e164,
        timestamp=when,
        raw=entry,
        correlation_id=correlation,
        reason=dict(reason),
    )


def _media_type(url: str) -> str:
    path = url.split("?", 1)[0].lower()
    for kind, extensions in _EXTENSIONS.items():
        if path.endswith(extensions):
            return kind
    return "document"


def _normalized(content: dict[str, Any]) -> tuple[str, dict[str, Any], str, str, bool]:
    """``(message_type, message, text, interactive_type, known)`` for a ``contact_message``."""
    if isinstance(content.get("text_message"), dict):
        text = _text(content["text_message"].get("text"))
        return "text", {"type": "text", "body": text}, text, "", True
    for key in ("media_message", "media_card_message"):
        if isinstance(content.get(key), dict):
            url, caption = _text(content[key].get("url")), _text(content[key].get("caption"))
            kind = _media_type(url)
            message: dict[str, Any] = {"type": kind, "url": url}
            if caption:
                message["caption"] = caption
            return kind, message, caption, "", True
    if isinstance(content.get("location_message"), dict):
        location = content["location_message"]
        coordinates = _obj(location, "coordinates")
        pin: dict[str, Any] = {
            "type": "location",
            "latitude": coordinates.get("latitude"),
            "longitude": coordinates.get("longitude"),
            "name": _text(location.get("title")),
            "address": _text(location.get("label")),
        }
        parts = [part for part in (pin["name"], pin["address"]) if part]
        text = ", ".join(parts) or f"{pin['latitude']}, {pin['longitude']}"
        return "location", pin, text, "", True
    if isinstance(content.get("choice_response_message"), dict):
        postback = _text(content["choice_response_message"].get("postback_data"))
        reply = {"type": "choice", "id": postback, "title": postback}
        return "interactive", {"type": "interactive", "message": reply}, postback, "choice", True
    if isinstance(content.get("contact_info_message"), dict):
        info = content["contact_info_message"]
        name = _text(_obj(info, "name").get("full_name"))
        phones = [
            {"phone": _text(p.get("phone_number"))} for p in info.get("phone_numbers") or [] if isinstance(p, dict)
        ]
        card = {"name": {"formatted_name": name}, "phones": phones}
        return "contacts", {"type": "contacts", "contacts": [card]}, name, "", True
    if isinstance(content.get("fallback_message"), dict):
        fallback = content["fallback_message"]
        reason = _obj(fallback, "reason")
        text = _text(fallback.get("raw_message")) or _text(reason.get("description"))
        return "fallback", {"type": "fallback", "details": text}, text, "", False
    kind = next((key for key in content if key != "reply_to"), "unknown")
    return kind, {"type": kind}, "", "", False


def _inbound(entry: dict[str, Any], when: datetime | None) -> InboundNotification | None:
    message_id = _text(entry.get("id"))
    content = entry.get("contact_message")
    # direction TO_APP is the only one documented for contact messages; an app message echo is not inbound.
    if not message_id or not isinstance(content, dict) or entry.get("direction", "TO_APP") != "TO_APP":
        return None
    message_type, message, text, interactive_type, known = _normalized(content)
    message["conversation"] = content
    number, e164, _ = _identity(entry)
    reply_to = _obj(content, "reply_to")
    replying_to = _text(reply_to.get("message_id"))
    if not replying_to and isinstance(content.get("choice_response_message"), dict):
        # The choice response names the app message that held the choices.
        replying_to = _text(content["choice_response_message"].get("message_id"))
    return InboundNotification(
        message_id=message_id,
        from_number=number,
        from_e164=e164,
        to="",
        message_type=message_type,
        message=message,
        text=text,
        interactive_type=interactive_type,
        replying_to_message_id=replying_to,
        timestamp=_timestamp(entry.get("accept_time")) or when,
        known_type=known,
        raw=entry,
    )


def _capability(entry: dict[str, Any], when: datetime | None) -> CapabilityNotification | None:
    status = _text(entry.get("capability_status"))
    number, e164, _ = _identity(entry)
    if not status and not number:
        return None
    reason = _obj(entry, "reason")
    return CapabilityNotification(
        request_id=_text(entry.get("request_id")),
        identity=number,
        identity_e164=e164,
        capable=CAPABLE_BY_STATUS.get(status),
        capability_status=status,
        reason=dict(reason),
        timestamp=when,
        raw=entry,
    )


def _event(entry: dict[str, Any], when: datetime | None) -> AppEventNotification:
    number, e164, _ = _identity(entry)
    event = _obj(entry, "contact_event")
    event_type = next(iter(event), "")
    return AppEventNotification(
        event_id=_text(entry.get("id")),
        identity=number,
        identity_e164=e164,
        event_type=event_type,
        event=event,
        timestamp=_timestamp(entry.get("accept_time")) or when,
        raw=entry,
    )


def _consent(trigger: str, entry: dict[str, Any], when: datetime | None) -> ConsentNotification:
    kind = "opt_in" if trigger == "opt_in_notification" else "opt_out"
    status = _text(entry.get("status"))
    number, e164, _ = _identity(entry)
    error = _obj(entry, "error_details")
    return ConsentNotification(
        kind=kind,
        request_id=_text(entry.get("request_id")),
        identity=number,
        identity_e164=e164,
        succeeded=status.endswith("_SUCCEEDED"),
        failed=status.endswith("_FAILED"),
        status=status,
        error_code=_text(error.get("description")),
        timestamp=when,
        raw=entry,
    )
