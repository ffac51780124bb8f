"""The JSON the sandbox sends: delivery reports and inbound message callbacks (whatsapp-callback.md)."""

from __future__ import annotations

from typing import Any

from .ids import iso_timestamp

# whatsapp-callback.md, "Delivery report callback": the states of a message that reaches the user.
SUCCESS_STATES = ("queued", "dispatched", "sent", "delivered", "read")
# Inbound types that carry the sender's profile ("Contacts might be placed only for text, contact and location").
TYPES_WITH_CONTACTS = ("text", "contacts", "location")
DEFAULT_PROFILE_NAME = "Sandbox User"

NO_OPT_IN_DETAILS = "Recipient has not opted in and has no open customer care session"
NO_CAPABILITY_DETAILS = "Recipient lacks WhatsApp capability"


def status_entry(
    message_id: str, recipient: str, state: str, *, status: str = "success", details: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "status": status,
        "state": state,
        "message_id": message_id,
        "recipient": recipient,
        "timestamp": iso_timestamp(),
    }
    if details:
        entry["details"] = details
    return entry


def delivery_report(
    message_id: str, recipient: str, state: str, *, status: str = "success", details: str | None = None
) -> dict[str, Any]:
    """One delivery report callback holding one status."""
    return {
        "type": "whatsapp",
        "statuses": [status_entry(message_id, recipient, state, status=status, details=details)],
    }


def accepted_response(statuses: list[tuple[str, str]]) -> dict[str, Any]:
    """The ``201`` body of ``POST /messages``: one queued status per (message id, recipient)."""
    return {
        "type": "whatsapp",
        "statuses": [
            {"message_id": message_id, "recipient": recipient, "status": "success", "state": "queued"}
            for message_id, recipient in statuses
        ],
    }


def inbound_callback(
    *,
    bot_id: str,
    from_number: str,
    message_id: str,
    message: dict[str, Any],
    contacts_name: str | None = None,
    replying_to: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An inbound message callback (``contacts`` + ``notifications``), as in "Sample inbound text message"."""
    notification: dict[str, Any] = {"from": from_number, "to": bot_id}
    if replying_to:
        notification["replying_to"] = replying_to
    notification.update({"message_id": message_id, "message": message, "timestamp": iso_timestamp()})
    notification.update(extra or {})
    payload: dict[str, Any] = {"type": "whatsapp"}
    if contacts_name is not None or message.get("type") in TYPES_WITH_CONTACTS:
        payload["contacts"] = [{"profile": {"name": contacts_name or DEFAULT_PROFILE_NAME}, "wa_id": from_number}]
    payload["notifications"] = [notification]
    return payload
