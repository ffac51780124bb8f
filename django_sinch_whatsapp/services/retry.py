"""Retrying an outbound message Sinch refused, so that a retry can never send it twice.

Only an ``error`` row is retried: Sinch answered and refused the request, so
nothing reached the recipient. An ``unknown`` row is not: its request may have
reached Sinch, which never answered, so there is no Sinch message id, and the
callback store (the only place reconciliation can ask, by message id) can
never say Sinch does not have it. Without that verdict a retry could deliver
twice, so it is refused with that reason.

The retry is a new send of the row's exact payload to its recipient under the
idempotency key ``retry:<row id>``: a second click, or two operators at once,
replay the first retry and send nothing (for ``IDEMPOTENCY_KEY_HOURS``).
"""

from __future__ import annotations

from ..exceptions import SinchWhatsAppError
from ..models import MessageState, OutboundMessage
from .sending import SendOutcome, send_message

UNKNOWN_REFUSAL = (
    "is 'unknown': the request may have reached Sinch, which never answered, so there is no Sinch message id "
    "and reconciliation cannot ask the callback store whether Sinch has it. Retrying could send it twice; "
    "wait for a delivery report, or send a new message if a duplicate is acceptable."
)


class RetryRefused(SinchWhatsAppError):
    """This row cannot be retried without risking a second delivery; the message says why."""


def retry_key(message: OutboundMessage) -> str:
    return f"retry:{message.pk}"


def check_retryable(message: OutboundMessage) -> None:
    """Raise :class:`RetryRefused` unless ``message`` is an ``error`` row of an active bot."""
    if message.state == MessageState.UNKNOWN:
        raise RetryRefused(f"This message {UNKNOWN_REFUSAL}")
    if message.state != MessageState.ERROR:
        raise RetryRefused(f"This message is {message.state!r}; only messages Sinch refused ('error') are retried.")
    if not message.bot.is_active:
        raise RetryRefused("This message's bot is inactive; activate it to retry.")


def retry_message(message: OutboundMessage) -> SendOutcome:
    """Send ``message``'s payload again to its recipient, once (see the module docstring)."""
    check_retryable(message)
    return send_message(
        message.bot,
        message.recipient,
        dict(message.payload),
        callback_url=message.callback_url or None,
        idempotency_key=retry_key(message),
    )
