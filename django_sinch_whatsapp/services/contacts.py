"""Opt-in/out, capability, mark-as-read and the blacklist.

Each function calls Sinch through the bot's transport first and records the
effect only once Sinch has accepted it: contacts' opt-in state and capability,
an inbound message's ``read_at``. No database transaction is held open across
a Sinch call. Numbers go through :func:`.numbers._in_batches`.

On the Conversation API capability and consent are asynchronous: a lookup is
recorded as ``pending`` (with when it was asked) and the ``capability_notification``
callback settles it; an opt-in/out is recorded once Sinch accepted it, and its
``opt_in_notification``/``opt_out_notification`` confirms or undoes it
(:mod:`django_sinch_whatsapp.callbacks.contacts`). A callback may arrive before
the call that caused it has returned: what it recorded is never overwritten by
the older request (the ``asked_at`` rules below).

The blacklist has no mirror: Sinch applies changes within about five minutes
(whatsapp-blacklist-callback.md), so a local copy would claim states Sinch does
not yet apply, and its paged list is cheap to read when someone asks.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from .. import signals
from ..clients import client_for_bot, transport_for_bot
from ..models import Bot, Capability, Contact, InboundMessage, OptInState
from ..phone import Recipient, best_effort_e164
from ..transports.base import CapabilityAnswer, Feature, Transport
from .guards import require_active, require_feature
from .numbers import CapabilityOutcome, NumbersOutcome, _in_batches
from .recipients import contacts_for

logger = logging.getLogger("django_sinch_whatsapp.services")

#: ``Contact.opt_in_source`` holds 200 characters.
_SOURCE_MAX_LENGTH = 200


def _record_opt_in(bot: Bot, state: str, source: str, asked_at: datetime) -> Callable[[list[Recipient], Any], None]:
    """Record ``state`` on the batch's contacts, except where a callback recorded something after ``asked_at``.

    A refusal that overtook our own answer wins (the contact is left alone). A
    confirmation that overtook it already recorded ``state`` and sent the
    signal: only who asked (``source``) is kept, and the signal is not sent a
    second time for the same change.
    """

    def record(batch: list[Recipient], _answer: Any) -> None:
        now = timezone.now()
        with transaction.atomic():
            since_asked = Q(opt_in_changed_at__gte=asked_at)
            contacts = contacts_for(bot, [item.e164 for item in batch]).exclude(since_asked & ~Q(opt_in_state=state))
            confirmed = since_asked & Q(opt_in_state=state)
            contacts.filter(confirmed).update(opt_in_source=source, updated_at=now)
            chosen = list(contacts.exclude(confirmed))
            Contact.objects.filter(pk__in=[contact.pk for contact in chosen]).update(
                opt_in_state=state, opt_in_changed_at=now, opt_in_source=source, updated_at=now
            )
            for contact in chosen:
                contact.opt_in_state, contact.opt_in_changed_at, contact.opt_in_source = state, now, source
                signals.opt_in_recorded.send(sender=Contact, contact=contact, opt_in_state=state, event=None)

    return record


# -- opt-in, capability, read ------------------------------------------------------------------------


def opt_in(bot: Bot, numbers: Sequence[str] | str, *, source: str = "") -> NumbersOutcome:
    """Opt the numbers in at Sinch, then mark the contacts opted in.

    The standalone API's ``POST /provision/optin`` (whatsapp-opt-in-and-outs.md);
    the Conversation API's ``optins:register``, one number per request, which is
    optional there (WhatsApp needs no opt-in registration on it, and Sinch may
    answer 404: the batch is then reported failed with that hint). ``source``
    says who or how (``"api:alice"``, ``"admin:bob"``, ``"web-form"``) and is kept
    on each contact.
    """
    asked_at = timezone.now()
    record = _record_opt_in(bot, OptInState.OPTED_IN, source[:_SOURCE_MAX_LENGTH], asked_at)
    return _in_batches(bot, numbers, lambda transport, batch: transport.opt_in(batch), record)


def opt_out(
    bot: Bot, numbers: Sequence[str] | str, *, source: str = "", deprecated_endpoint: bool = False
) -> NumbersOutcome:
    """Opt the numbers out at Sinch, then mark the contacts opted out.

    The standalone API's ``DELETE /provision/optin``; the Conversation API's
    ``optouts:register`` (optional, as for :func:`opt_in`). ``deprecated_endpoint=True``
    uses the standalone API's ``POST /provision/optout`` instead, which the page
    marks deprecated; it is only for accounts that still need it, and another
    transport refuses it (``FeatureNotSupported``) before any call.
    """
    if deprecated_endpoint:
        require_feature(bot, Feature.DEPRECATED_OPT_OUT)
        warnings.warn(
            "POST /provision/optout is deprecated by Sinch; opt_out() uses DELETE /provision/optin by default "
            "(whatsapp-opt-in-and-outs.md).",
            DeprecationWarning,
            stacklevel=2,
        )

    def call(transport: Transport, batch: list[str]) -> None:
        transport.opt_out(batch, deprecated_endpoint=deprecated_endpoint)

    asked_at = timezone.now()
    record = _record_opt_in(bot, OptInState.OPTED_OUT, source[:_SOURCE_MAX_LENGTH], asked_at)
    return _in_batches(bot, numbers, call, record)


def check_capability(bot: Bot, numbers: Sequence[str] | str) -> CapabilityOutcome:
    """Ask Sinch whether the numbers have WhatsApp; record the answer, or the lookup as pending, per contact.

    The standalone API's ``POST /capability`` (whatsapp-capability.md) answers in
    the same call: ``outcome.capable`` holds it and each contact is ``capable`` or
    ``not_capable`` with ``capability_checked_at``. The Conversation API's
    ``capability:query`` is answered later by a ``capability_notification``
    callback: ``outcome.pending`` lists the numbers, each contact is ``pending``
    with ``capability_requested_at`` until the callback settles it. Either way
    :data:`~django_sinch_whatsapp.signals.capability_recorded` fires for each answer.
    """
    require_feature(bot, Feature.CAPABILITY)
    outcome = CapabilityOutcome()
    asked_at = timezone.now()

    def record(batch: list[Recipient], answers: list[CapabilityAnswer]) -> None:
        by_wire = {item.wire: item.e164 for item in batch}
        # Sinch's msisdn may come back with or without '+': match on E.164.
        sent = set(by_wire.values())
        found: dict[str, bool | None] = {}
        pending: list[str] = []
        for answer in answers:
            number = by_wire.get(answer.recipient) or best_effort_e164(answer.recipient)
            if number not in sent:
                continue
            if answer.pending:
                pending.append(number)
            else:
                found[number] = answer.capable
        unanswered = sent - set(found) - set(pending)
        if unanswered:
            logger.warning("Bot %s: capability answer lacks %s", bot.pk, ", ".join(sorted(unanswered)))
        outcome.capable.update({number: value for number, value in found.items() if value is not None})
        outcome.pending.extend(pending)
        _record_capability(bot, found, pending, asked_at)

    _in_batches(bot, numbers, lambda transport, batch: transport.check_capability(batch), record, outcome)
    return outcome


_CAPABILITY_BY_ANSWER = {True: Capability.CAPABLE, False: Capability.NOT_CAPABLE, None: Capability.UNKNOWN}


def _record_capability(bot: Bot, found: dict[str, bool | None], pending: list[str], asked_at: datetime) -> None:
    """Answers on their contacts (and the signal); pending lookups, unless their answer already came."""
    now = timezone.now()
    with transaction.atomic():
        contacts = contacts_for(bot, [*found, *pending])
        if pending:
            # The callback may have settled a lookup before its request returned: it is newer, keep it.
            answered = Q(capability_checked_at__gte=asked_at) & ~Q(capability=Capability.PENDING)
            contacts.filter(number__in=pending).update(
                capability=Case(When(answered, then=F("capability")), default=Value(Capability.PENDING)),
                capability_requested_at=asked_at,
                updated_at=now,
            )
        if not found:
            return
        for value in (True, False, None):
            chosen = [number for number, answer in found.items() if answer is value]
            if chosen:
                contacts.filter(number__in=chosen).update(
                    capability=_CAPABILITY_BY_ANSWER[value],
                    capability_checked_at=now,
                    capability_requested_at=asked_at,
                    updated_at=now,
                )
        if signals.capability_recorded.has_listeners(Contact):
            for contact in contacts.filter(number__in=list(found)):
                signals.capability_recorded.send(
                    sender=Contact, contact=contact, capability=contact.capability, event=None
                )


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
    return _in_batches(bot, numbers, lambda transport, batch: transport.client.blacklist_add(batch))


def blacklist_remove(bot: Bot, numbers: Sequence[str] | str) -> NumbersOutcome:
    """``DELETE /provision/blacklist``."""
    require_feature(bot, Feature.BLACKLIST)
    return _in_batches(bot, numbers, lambda transport, batch: transport.client.blacklist_remove(batch))


def list_blacklist(bot: Bot) -> list[str]:
    """Every blacklisted number in E.164, read page by page from page 0."""
    require_feature(bot, Feature.BLACKLIST)
    return [best_effort_e164(number) for number in client_for_bot(bot).iter_blacklist()]
