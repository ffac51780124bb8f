"""Normalized callback events: what :mod:`.parsing` produces and processing consumes.

Every event keeps ``raw``, the JSON object it was read from, so receivers of
our signals can reach fields we do not model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class StatusUpdate:
    """One entry of ``statuses`` (whatsapp-callback.md, "Delivery report callback")."""

    message_id: str
    state: str
    status: str = ""
    details: str = ""
    recipient: str = ""
    recipient_e164: str = ""
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ContactProfile:
    """One entry of ``contacts``: the sender's WhatsApp id and profile name."""

    wa_id: str
    wa_id_e164: str
    profile_name: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class InboundNotification:
    """One entry of ``notifications``: an inbound message or an error notification.

    ``message_type`` is the inbound ``message.type`` (``text``, ``image``,
    ``button``, ``interactive``, ``error`` ... or a type we do not know yet);
    ``interactive_type`` is ``button`` or ``list`` for interactive replies.
    ``text`` is the body, caption, title or error details: a readable summary.
    """

    message_id: str
    from_number: str
    from_e164: str
    to: str
    message_type: str
    message: dict[str, Any]
    text: str = ""
    interactive_type: str = ""
    replying_to_message_id: str = ""
    replying_to_from: str = ""
    forwarded: bool = False
    frequently_forwarded: bool = False
    referral: dict[str, Any] | None = None
    timestamp: datetime | None = None
    profile_name: str = ""
    known_type: bool = True
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def is_error(self) -> bool:
        return self.message_type == "error"

    @property
    def media_url(self) -> str:
        return str(self.message.get("url") or "")


@dataclass(frozen=True)
class ParsedCallback:
    """A whole callback: a callback may carry statuses and notifications together."""

    statuses: list[StatusUpdate] = field(default_factory=list)
    contacts: list[ContactProfile] = field(default_factory=list)
    notifications: list[InboundNotification] = field(default_factory=list)
    #: Entries we could not read (each the raw object), kept to be surfaced.
    unreadable: list[Any] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


class CallbackParseError(ValueError):
    """The JSON is not a Sinch WhatsApp callback at all (stored, not processed)."""
