"""Opt-in/out, capability, mark-as-read and the blacklist.

Each function calls Sinch first and records the effect only once Sinch has
accepted it: contacts' opt-in state and capability, an inbound message's
``read_at``. No database transaction is held open across a Sinch call.
Numbers go through :func:`.numbers._in_batches`.

The blacklist has no mirror: Sinch applies changes within about five minutes
(whatsapp-blacklist-callback.md), so a local copy would claim states Sinch does
not yet apply, and its paged list is cheap to read when someone asks.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..client.client import SinchWhatsAppClient
from ..clients import client_for_bot, transport_for_bot
from ..models import Bot, Capability, InboundMessage, OptInState
from ..phone import Recipient, best_effort_e164
from ..transports.base import Feature
from .guards import require_active, require_feature
from .numbers import CapabilityOutcome, NumbersOutcome, _in_batches
from .recipients import contacts_for

logger = logging.getLogger("django_sinch_whatsapp.services")

#: ``Contact.opt_in_source`` holds 200 characters.
_SOURCE_MAX_LENGTH = 200


def _record_opt_in(bot: Bot, state: str, source: str) -> Callable[[list[Recipient], Any], None]:
    def record(batch: list[Recipient], _answer: Any) -> None:
        now = timezone.now()
        with transaction.atomic():
            contacts_for(bot, [item.e164 for item in batch]).update(
                opt_in_state=state, opt_in_changed_at=now, opt_in_source=source, updated_at=now
            )

    return record


# -- opt-in, capability, read ------------------------------------------------------------------------


def opt_in(bot: Bot, numbers: Sequence[str] | str, *, source: str = "") -> NumbersOutcome:
    """``POST /provision/optin`` (whatsapp-opt-in-and-outs.md), then mark the contacts opted in.

    ``source`` says who or how (``"api:alice"``, ``"admin:bob"``, ``"web-form"``) and is kept on each contact.
    """
    record = _record_opt_in(bot, OptInState.OPTED_IN, source[:_SOURCE_MAX_LENGTH])
    return _in_batches(bot, numbers, lambda client, batch: client.opt_in(batch), record)


def opt_out(
    bot: Bot, numbers: Sequence[str] | str, *, source: str = "", deprecated_endpoint: bool = False
) -> NumbersOutcome:
    """``DELETE /provision/optin``, then mark the contacts opted out.

    ``deprecated_endpoint=True`` uses ``POST /provision/optout`` instead, which
    the page marks deprecated; it is only for accounts that still need it.
    """
    if deprecated_endpoint:
        warnings.warn(
            "POST /provision/optout is deprecated by Sinch; opt_out() uses DELETE /provision/optin by default "
            "(whatsapp-opt-in-and-outs.md).",
            DeprecationWarning,
            stacklevel=2,
        )

    def call(client: SinchWhatsAppClient, batch: list[str]) -> None:
        if deprecated_endpoint:
            client.opt_out_deprecated(batch)
        else:
            client.opt_out(batch)

    return _in_batches(bot, numbers, call, _record_opt_in(bot, OptInState.OPTED_OUT, source[:_SOURCE_MAX_LENGTH]))


def check_capability(bot: Bot, numbers: Sequence[str] | str) -> CapabilityOutcome:
    """``POST /capability`` (whatsapp-capability.md); stores capable/not capable and the time on each contact.

    The answer comes in the same call, which only the standalone API does: a
    Conversation bot is refused (``FeatureNotSupported``), since its
    ``capability:query`` is answered later by a callback that is stored, not applied.
    """
    require_feature(bot, Feature.SYNCHRONOUS_CAPABILITY)
    outcome = CapabilityOutcome()

    def record(batch: list[Recipient], answer: Any) -> None:
        by_wire = {item.wire: item.e164 for item in batch}
        # Sinch's msisdn may come back with or without '+': match on E.164.
        sent = set(by_wire.values())
        found: dict[str, bool] = {}
        for result in answer:
            number = by_wire.get(result.msisdn) or best_effort_e164(result.msisdn)
            if number in sent:
                found[number] = result.capable
        unanswered = sent - set(found)
        if unanswered:
            logger.warning("Bot %s: capability answer lacks %s", bot.pk, ", ".join(sorted(unanswered)))
        outcome.capable.update(found)
        now = timezone.now()
        with transaction.atomic():
            for capable in (True, False):
                chosen = [number for number, value in found.items() if value is capable]
                if chosen:
                    contacts_for(bot, chosen).update(
                        capability=Capability.CAPABLE if capable else Capability.NOT_CAPABLE,
                        capability_checked_at=now,
                        updated_at=now,
                    )

    _in_batches(bot, numbers, lambda client, batch: client.capability(batch), record, outcome)
    return outcome


def mark_read(inbound_message: InboundMessage, *, force: bool = False) -> InboundMessage:
    """Mark read at Sinch through the bot's transport, then set ``read_at``.

    The standalone API's ``POST /events`` with ``type: read`` (whatsapp-callback.md);
    the Conversation API's ``events:send`` with a ``read_message_event`` to the sender.
    A message already marked read is left alone unless ``force`` (no second call).
    """
    if inbound_message.read_at is not None and not force:
        return inbound_message
    bot = inbound_message.bot
    require_active(bot)
    sender = (inbound_message.from_number or inbound_message.from_e164).lstrip("+")  # as Sinch named the sender
    transport_for_bot(bot).mark_as_read(inbound_message.sinch_message_id, sender)
    inbound_message.read_at = inbound_message.read_at or timezone.now()
    inbound_message.save(update_fields=["read_at"])
    return inbound_message


# -- blacklist (no mirror; see the module docstring) -----------------------------------------------------


def blacklist_add(bot: Bot, numbers: Sequence[str] | str) -> NumbersOutcome:
    """``POST /provision/blacklist``: these numbers stop generating inbound callbacks (within ~5 minutes)."""
    require_feature(bot, Feature.BLACKLIST)
    return _in_batches(bot, numbers, lambda client, batch: client.blacklist_add(batch))


def blacklist_remove(bot: Bot, numbers: Sequence[str] | str) -> NumbersOutcome:
    """``DELETE /provision/blacklist``."""
    require_feature(bot, Feature.BLACKLIST)
    return _in_batches(bot, numbers, lambda client, batch: client.blacklist_remove(batch))


def list_blacklist(bot: Bot) -> list[str]:
    """Every blacklisted number in E.164, read page by page from page 0."""
    require_feature(bot, Feature.BLACKLIST)
    return [best_effort_e164(number) for number in client_for_bot(bot).iter_blacklist()]
