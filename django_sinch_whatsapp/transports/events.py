"""Conversation-only events, beside the normalized ones of :mod:`django_sinch_whatsapp.callbacks.events`.

Capability answers and consent changes (conversation-callbacks.md, "Capability",
"Opt-In", "Opt-Out") are normalized events applied above the seam:
:class:`~django_sinch_whatsapp.callbacks.events.CapabilityNotification` and
:class:`~django_sinch_whatsapp.callbacks.events.ConsentNotification`, re-exported
here. Contact events (composing ...) are only stored and surfaced
(:class:`AppEventNotification`), in :class:`ConversationCallback`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..callbacks.events import CapabilityNotification, ConsentNotification, ParsedCallback, StatusUpdate

__all__ = [
    "AppEventNotification",
    "CapabilityNotification",
    "ConsentNotification",
    "ConversationCallback",
    "ConversationStatusUpdate",
]


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
    """A ``ParsedCallback`` plus the contact events and the trigger it was told by.

    ``trigger`` is the top-level key that says what the callback is
    (``message_delivery_report``, ``message``, ``capability_notification`` ...), or
    ``""`` when none we know is present (the body is then in ``unreadable``).
    """

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
