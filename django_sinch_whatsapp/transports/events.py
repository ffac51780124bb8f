"""Normalized events that :mod:`django_sinch_whatsapp.callbacks.events` does not have yet.

The Conversation API reports capability lookups and consent changes in
callbacks of their own (conversation-callbacks.md, "Capability", "Opt-In",
"Opt-Out"). They become these events; a transport puts them in
:class:`ConversationCallback` next to the statuses and notifications of a
:class:`~django_sinch_whatsapp.callbacks.events.ParsedCallback`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..callbacks.events import ParsedCallback, StatusUpdate


@dataclass(frozen=True)
class CapabilityNotification:
    """The answer to an asynchronous capability lookup (``capability_notification``).

    ``capable`` is True for ``CAPABILITY_FULL`` and ``CAPABILITY_PARTIAL``;
    ``capability_status`` keeps Sinch's word. ``request_id`` is what we sent in
    ``capability:query``, so the pending lookup can be settled.
    """

    request_id: str
    identity: str
    identity_e164: str
    capable: bool
    capability_status: str
    reason: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ConsentNotification:
    """An opt-in or opt-out registration finished (``opt_in_notification`` / ``opt_out_notification``).

    ``kind`` is ``opt_in`` or ``opt_out``; ``succeeded`` is False when Sinch
    reports ``OPT_IN_FAILED``/``OPT_OUT_FAILED`` (``error_code`` then says why).
    """

    kind: str
    request_id: str
    identity: str
    identity_e164: str
    succeeded: bool
    status: str
    error_code: str = ""
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class AppEventNotification:
    """A contact event (``event``: composing, comment reply ...): nothing to apply, kept to be surfaced."""

    event_id: str
    identity: str
    identity_e164: str
    event_type: str
    event: dict[str, Any]
    timestamp: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ConversationCallback(ParsedCallback):
    """A ``ParsedCallback`` plus the Conversation-only events and the trigger it was told by.

    ``trigger`` is the top-level key that says what the callback is
    (``message_delivery_report``, ``message``, ``capability_notification`` ...), or
    ``""`` when none we know is present (the body is then in ``unreadable``).
    """

    capabilities: list[CapabilityNotification] = field(default_factory=list)
    consents: list[ConsentNotification] = field(default_factory=list)
    app_events: list[AppEventNotification] = field(default_factory=list)
    trigger: str = ""


@dataclass(frozen=True)
class ConversationStatusUpdate(StatusUpdate):
    """A ``StatusUpdate`` that also carries our own id from the send (``correlation_id`` / ``message_metadata``).

    It matches a delivery report to its row even when the answer to ``messages:send``
    (Sinch's message id) was lost to a timeout. ``reason`` is Sinch's
    ``{code, sub_code, description}`` for FAILED and SWITCHING_CHANNEL.
    """

    correlation_id: str = ""
    reason: dict[str, Any] = field(default_factory=dict)
