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
class CapabilityNotification:
    """The answer to an asynchronous capability lookup (the Conversation API's ``capability_notification``).

    ``capable`` is True when the number can be reached on WhatsApp, False when it
    cannot, None when the channel does not say (``CAPABILITY_UNKNOWN``);
    ``capability_status`` keeps the transport's own word. ``request_id`` is what
    the lookup sent, ``identity_e164`` the contact's number (empty when the
    identity is no phone number: nothing is applied then).
    """

    request_id: str
    identity: str
    identity_e164: str
    capable: bool | None
    capability_status: str
    reason: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ConsentNotification:
    """An opt-in or opt-out was registered, or refused (``opt_in_notification`` / ``opt_out_notification``).

    ``kind`` is ``opt_in`` or ``opt_out``; ``succeeded`` when it was registered,
    ``failed`` when Sinch refused it (``OPT_IN_FAILED``/``OPT_OUT_FAILED``;
    ``error_code`` then says why); neither when the channel has no opt-in
    (``*_STATUS_UNSPECIFIED``): nothing is applied then.
    """

    kind: str
    request_id: str
    identity: str
    identity_e164: str
    succeeded: bool
    status: str
    error_code: str = ""
    failed: bool = False
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ParsedCallback:
    """A whole callback: a callback may carry statuses and notifications together.

    ``capabilities`` and ``consents`` are the answers of asynchronous capability
    lookups and opt-in/opt-out registrations (only the Conversation API sends
    them); processing applies them to contacts.
    """

    statuses: list[StatusUpdate] = field(default_factory=list)
    contacts: list[ContactProfile] = field(default_factory=list)
    notifications: list[InboundNotification] = field(default_factory=list)
    #: Entries we could not read (each the raw object), kept to be surfaced.
    unreadable: list[Any] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, compare=False)
    capabilities: list[CapabilityNotification] = field(default_factory=list)
    consents: list[ConsentNotification] = field(default_factory=list)


class CallbackParseError(ValueError):
    """The JSON is not a Sinch WhatsApp callback at all (stored, not processed)."""
