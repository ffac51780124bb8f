"""The one place where models meet the Sinch client (see the sub-modules).

Callers import from here: ``from django_sinch_whatsapp import services``.
"""

from __future__ import annotations

from .sending import RejectedRecipient, SendOutcome, send_message, send_text

__all__ = ["RejectedRecipient", "SendOutcome", "send_message", "send_text"]
