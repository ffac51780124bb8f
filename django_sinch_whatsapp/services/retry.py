"""Retrying an outbound message Sinch did not take, so that a retry can never send it twice.

An ``error`` row is retried: Sinch answered and refused the request, so nothing reached the recipient.
An ``unknown`` row is retried only once reconciliation has confirmed that Sinch never took it
(``absent_confirmed_at``, :mod:`.lost_sends`): its request may have reached Sinch, which never
answered, and retrying before that verdict could deliver twice. Until then the retry is refused,
saying why and what must run first.

The retry is a new send (a new row; the original keeps its history) of the row's exact payload to its
recipient under the idempotency key ``retry:<row id>``: a second click, or two operators at once,
replay the first retry and send nothing. The send's id is then kept on the original row
(``retry_send_id``), so the row is refused for good once retried, long after the key has expired.
To try again after a retry that failed, retry the retry's own row.
"""

from __future__ import annotations

from ..exceptions import SinchWhatsAppError
from ..models import MessageState, OutboundMessage
from .lost_sends import outlook
from .sending import SendOutcome, send_message

UNKNOWN_REFUSAL = (
    "is 'unknown': the request may have reached Sinch, which never answered, so there is no Sinch message id. "
    "Retrying could send it twice, so it is retried only once reconciliation has confirmed that Sinch does not "
    "have it: run reconciliation first (manage.py sinch_whatsapp_reconcile, or the reconcile task). "
)


class RetryRefused(SinchWhatsAppError):
    """This row cannot be retried without risking a second delivery; the message says why."""


def retry_key(message: OutboundMessage) -> str:
    return f"retry:{message.pk}"


def check_retryable(message: OutboundMessage) -> None:
    """Raise :class:`RetryRefused` unless ``message`` may be sent again (see the module docstring)."""
    if message.retry_send_id is not None:
        raise RetryRefused(
            f"This message was already retried (send {message.retry_send_id}); retry that send's message instead."
        )
    if message.state == MessageState.UNKNOWN and message.absent_confirmed_at is None:
        raise RetryRefused(f"This message {UNKNOWN_REFUSAL}{outlook(message)}")
    if message.state not in (MessageState.ERROR, MessageState.UNKNOWN):
        raise RetryRefused(
            f"This message is {message.state!r}; only messages Sinch refused ('error') or never took "
            "('unknown', confirmed by reconciliation) are retried."
        )
    if not message.bot.is_active:
        raise RetryRefused("This message's bot is inactive; activate it to retry.")


def retry_message(message: OutboundMessage) -> SendOutcome:
    """Send ``message``'s payload again to its recipient, once (see the module docstring)."""
    current = OutboundMessage.objects.select_related("bot").get(pk=message.pk)  # as it is now, not as shown
    check_retryable(current)
    outcome = send_message(
        current.bot,
        current.recipient,
        dict(current.payload),
        callback_url=current.callback_url or None,
        idempotency_key=retry_key(current),
    )
    OutboundMessage.objects.filter(pk=current.pk, retry_send_id__isnull=True).update(retry_send_id=outcome.send_id)
    return outcome
