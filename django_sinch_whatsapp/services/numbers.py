"""What the calls over lists of numbers share: their outcomes and the batching.

Numbers are normalized like recipients of a send (``+46 73-200 11 22`` ->
``46732001122`` on the wire, ``+46732001122`` on contacts); invalid ones are
reported per number in the outcome while the valid ones are still sent, in
requests of as many numbers as the bot's transport takes (20 on the standalone
API, 1 on the Conversation API). A batch Sinch refuses is reported with its
error and the other batches still go.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..clients import transport_for_bot
from ..exceptions import SinchAPIError
from ..models import Bot
from ..phone import Recipient
from ..transports.base import Transport
from .guards import require_active
from .recipients import RejectedRecipient, default_region_for, normalize_numbers

logger = logging.getLogger("django_sinch_whatsapp.services")


# -- outcomes -----------------------------------------------------------------------------------


@dataclass
class FailedBatch:
    """Numbers (E.164) of one request Sinch refused or did not answer, and why."""

    numbers: list[str]
    error: SinchAPIError


@dataclass
class NumbersOutcome:
    """What a call over a list of numbers did: ``done`` (E.164) Sinch accepted, the rest and why."""

    done: list[str] = field(default_factory=list)
    rejected: list[RejectedRecipient] = field(default_factory=list)
    failed: list[FailedBatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed

    @property
    def errors(self) -> list[SinchAPIError]:
        return [batch.error for batch in self.failed]


@dataclass
class CapabilityOutcome(NumbersOutcome):
    """``capable`` maps each E.164 number Sinch answered for to its WhatsApp capability.

    ``pending`` lists the numbers whose answer comes later by callback (the
    Conversation API): their contacts are ``lookup pending`` until it arrives.
    """

    capable: dict[str, bool] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)


# -- numbers ----------------------------------------------------------------------------------------


def _in_batches(
    bot: Bot,
    numbers: Sequence[str] | str,
    call: Callable[[Transport, list[str]], Any],
    on_success: Callable[[list[Recipient], Any], None] | None = None,
    outcome: NumbersOutcome | None = None,
) -> NumbersOutcome:
    """Normalize, then ``call(transport, wire_numbers)`` per batch the transport takes; record successes."""
    require_active(bot)
    recipients, rejected = normalize_numbers(
        numbers, field="numbers", allow_groups=False, default_region=default_region_for(bot)
    )
    outcome = outcome if outcome is not None else NumbersOutcome()
    outcome.rejected.extend(rejected)
    transport = transport_for_bot(bot)
    size = transport.recipients_per_request
    for start in range(0, len(recipients), size):
        batch = recipients[start : start + size]
        try:
            answer = call(transport, [item.wire for item in batch])
        except SinchAPIError as err:
            logger.warning("Bot %s: %d number(s) not provisioned: %s", bot.pk, len(batch), err)
            outcome.failed.append(FailedBatch([item.e164 for item in batch], err))
            continue
        outcome.done.extend(item.e164 for item in batch)
        if on_success is not None:
            on_success(batch, answer)
    return outcome
