"""Sending: validate, record, then dispatch.

Every message accepted here is validated against the documented limits, then
recorded (state ``accepted``) before any remote call; :mod:`.dispatch` sends it
after the transaction commits and records Sinch's answer on the same rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from .. import dispatch
from ..client import messages as builders
from ..client.client import MAX_NUMBERS_PER_REQUEST
from ..exceptions import MessageValidationError, OutsideCustomerCareWindow, SinchAPIError
from ..models import Bot, MessageType, OutboundMessage
from .recipients import RejectedRecipient, contacts_for, default_region_for, normalize_numbers

WINDOW_CLOSED_REASON = "the 24-hour customer care window is closed (no message from this contact in 24 hours)"


@dataclass
class SendOutcome:
    """What a send did: one row per accepted recipient, and who was refused why."""

    messages: list[OutboundMessage] = field(default_factory=list)
    rejected: list[RejectedRecipient] = field(default_factory=list)
    batches: list[dispatch.BatchResult] = field(default_factory=list)

    @property
    def errors(self) -> list[SinchAPIError]:
        return [batch.error for batch in self.batches if batch.error is not None]

    def refresh(self) -> SendOutcome:
        """Reload the rows (after an inline dispatch wrote Sinch's answer)."""
        by_pk = OutboundMessage.objects.in_bulk([m.pk for m in self.messages])
        self.messages = [by_pk.get(m.pk, m) for m in self.messages]
        return self


def send_message(
    bot: Bot,
    to: Sequence[str] | str,
    message: dict[str, Any],
    *,
    callback_url: str | None = None,
    allow_outside_window: bool = False,
    header_text_length: int = 0,
    body_text_length: int = 0,
) -> SendOutcome:
    """Validate, record and dispatch one message object to any number of recipients.

    Recipients are normalized (``+46 73-200 11 22`` -> ``46732001122``;
    ``group:`` ids pass through); invalid ones are listed in
    ``outcome.rejected`` while the valid ones are still sent, in
    ``ceil(N / 20)`` requests (whatsapp-message.md: 1 to 20 per request).
    A non-template message to a contact whose 24-hour window is closed is
    refused for that contact (``OutsideCustomerCareWindow`` when it leaves
    nobody), unless ``allow_outside_window``.
    """
    if not bot.is_active:
        raise MessageValidationError("bot", "is inactive; activate it to send")
    if not isinstance(message, builders.ValidatedMessage):
        # A template's own header/body text counts toward the 60/1024 totals; callers who know it pass it.
        message = builders.validate_message(
            message, header_text_length=header_text_length, body_text_length=body_text_length
        )
    # whatsapp-message.md: callback is a URL Sinch posts to; refused here, before any row or request.
    field = "callback" if callback_url is not None else "callback (the bot's, from SINCH_WHATSAPP['PUBLIC_BASE_URL'])"
    callback = builders.validate_callback_url(callback_url if callback_url is not None else bot.callback_url, field)
    recipients, rejected = normalize_numbers(to, field="to", allow_groups=True, default_region=default_region_for(bot))
    outcome = SendOutcome(rejected=rejected)
    if not recipients:
        return outcome
    message_type = message["type"]
    with transaction.atomic():
        contacts = {c.number: c for c in contacts_for(bot, [r.e164 for r in recipients if not r.is_group])}
        if not allow_outside_window and message_type != MessageType.TEMPLATE:
            # whatsapp-message.md, message flow: outside the 24-hour customer care
            # window only templates may be sent; refuse before any request.
            closed = [r for r in recipients if not r.is_group and not contacts[r.e164].window_open]
            if closed:
                recipients = [r for r in recipients if r not in closed]
                outcome.rejected.extend(RejectedRecipient(raw=r.raw, reason=WINDOW_CLOSED_REASON) for r in closed)
                if not recipients:
                    raise OutsideCustomerCareWindow(
                        f"{', '.join(r.e164 for r in closed)}: {WINDOW_CLOSED_REASON}. "
                        "Send a template, or pass allow_outside_window=True to override."
                    )
        rows = []
        batch_ids = []
        for start in range(0, len(recipients), MAX_NUMBERS_PER_REQUEST):
            batch_id = uuid.uuid4()
            batch_ids.append(batch_id)
            for item in recipients[start : start + MAX_NUMBERS_PER_REQUEST]:
                rows.append(
                    OutboundMessage(
                        bot=bot,
                        contact=contacts.get(item.e164),
                        recipient=item.wire,
                        message_type=message_type,
                        payload=message,
                        callback_url=callback or "",
                        batch_id=batch_id,
                    )
                )
        OutboundMessage.objects.bulk_create(rows)
        outcome.messages = rows
        outcome.batches = dispatch.schedule(batch_ids)
    return outcome.refresh()


def send_text(bot: Bot, to: Sequence[str] | str, text: str, *, preview_url: bool = False, **kwargs: Any) -> SendOutcome:
    return send_message(bot, to, builders.text(text, preview_url=preview_url), **kwargs)
