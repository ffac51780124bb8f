"""Builders and validation for the ``message`` object of ``POST /whatsapp/v1/{bot-id}/messages``.

Every documented limit is checked here, before a row is written or a request
made, so a caller learns which field is wrong (a dotted path into the wire
JSON, e.g. ``message.message.action.buttons[2].title``) instead of reading a
400 from Sinch later. The builders only assemble a dict and hand it to the
same validation that ``validate_message`` applies to raw JSON posted through
the API: each rule has one implementation.

The pages in ``sinch-whatsapp-docs`` are the contract; where they are newer
than ``whatsapp-api.yaml`` they win (``header_params``/``body_params`` instead
of ``params``; ``interactive`` and ``sticker`` exist only in the pages).
"""

from __future__ import annotations

from .builders import (
    audio,
    contacts,
    document,
    image,
    interactive_buttons,
    interactive_list,
    location,
    sticker,
    template,
    text,
    video,
)
from .checks import Message
from .limits import LANGUAGE_CODES, LIMITS, MESSAGE_TYPES, Limit
from .validation import ValidatedMessage, validate_callback_url, validate_message

__all__ = [
    "LANGUAGE_CODES",
    "LIMITS",
    "MESSAGE_TYPES",
    "Limit",
    "Message",
    "ValidatedMessage",
    "audio",
    "contacts",
    "document",
    "image",
    "interactive_buttons",
    "interactive_list",
    "location",
    "sticker",
    "template",
    "text",
    "validate_callback_url",
    "validate_message",
    "video",
]
