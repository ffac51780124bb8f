"""Capability answers and consent changes from callbacks -> contacts, set-based (DESIGN.md rule 7).

The Conversation API answers a capability lookup and an opt-in/opt-out
registration later, by callback (conversation-callbacks.md, "Capability Check",
"Opt In", "Opt Out"); its channels may also report consent changes of their own.
Each is applied to the bot's contact of that number in a constant number of
statements, whatever a callback holds:

* capability: one ``INSERT ... ON CONFLICT DO UPDATE`` (a contact we never
  wrote to is created): ``capable`` / ``not_capable`` / ``unknown`` and
  ``capability_checked_at``, which settles a ``pending`` lookup. The latest
  answer wins: answers are news about the number, whoever asked.
* consent that succeeded: one upsert that writes ``opted_in`` / ``opted_out``
  only where the state differs (a confirmation of what the service recorded
  changes nothing, and keeps who asked in ``opt_in_source``).
* consent refused (``*_FAILED``): one upsert per kind: a contact recorded in the
  state that was refused goes back to ``unknown``; either way the time and
  Sinch's status are kept (a contact not written yet is created), so the
  service, if its answer comes later, does not record the refused state
  (:mod:`django_sinch_whatsapp.services.contacts`).

Signals (:data:`~django_sinch_whatsapp.signals.capability_recorded`,
:data:`~django_sinch_whatsapp.signals.opt_in_recorded`) fire for each contact
written, inside the callback's transaction; the contacts are read back (one
SELECT) only when a receiver is connected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from django.utils import timezone

from .. import signals
from ..models import Capability, Contact, OptInState
from .bulk import column, excluded, insert_returning, quoted_column
from .events import CapabilityNotification, ConsentNotification

if TYPE_CHECKING:
    from datetime import datetime

    from ..models import Bot

#: Which state a consent notification's kind records.
STATE_BY_KIND = {"opt_in": OptInState.OPTED_IN, "opt_out": OptInState.OPTED_OUT}
_CAPABILITY = {True: Capability.CAPABLE, False: Capability.NOT_CAPABLE, None: Capability.UNKNOWN}
Notification = TypeVar("Notification", CapabilityNotification, ConsentNotification)


def applicable_capability(notification: CapabilityNotification) -> bool:
    """Only a phone number names a contact."""
    return bool(notification.identity_e164)


def applicable_consent(notification: ConsentNotification) -> bool:
    """A phone number, a kind we know, and an outcome (``*_STATUS_UNSPECIFIED`` says the channel has no opt-in)."""
    return (
        bool(notification.identity_e164)
        and notification.kind in STATE_BY_KIND
        and (notification.succeeded or notification.failed)
    )


def _keys() -> str:
    return f"({quoted_column(Contact, 'bot')}, {quoted_column(Contact, 'number')})"


def _last_per_number(items: list[Notification]) -> dict[str, Notification]:
    """One entry per number (the last: an upsert may touch a row once per statement)."""
    return {item.identity_e164[:40]: item for item in items}


def apply_capabilities(bot: Bot, notifications: list[CapabilityNotification]) -> int:
    """Record each answer on its contact; returns how many contacts were written (one statement)."""
    latest = _last_per_number([n for n in notifications if applicable_capability(n)])
    if not latest:
        return 0
    received = timezone.now()
    rows = [
        Contact(bot=bot, number=number, capability=_CAPABILITY[n.capable], capability_checked_at=received)
        for number, n in latest.items()
    ]
    conflict = (
        f"{_keys()} DO UPDATE SET capability = {excluded(Contact, 'capability')}, "
        f"capability_checked_at = {excluded(Contact, 'capability_checked_at')}, "
        f"updated_at = {excluded(Contact, 'updated_at')}"
    )
    written = dict(insert_returning(rows, conflict=conflict, returning=["number", "id"]))
    _signal_capability(written, latest)
    return len(written)


def _signal_capability(written: dict[str, int], latest: dict[str, CapabilityNotification]) -> None:
    if not signals.capability_recorded.has_listeners(Contact):
        return
    for contact in Contact.objects.filter(pk__in=list(written.values())).order_by("pk"):
        signals.capability_recorded.send(
            sender=Contact, contact=contact, capability=contact.capability, event=latest[contact.number]
        )


def apply_consents(bot: Bot, notifications: list[ConsentNotification]) -> int:
    """Record opt-ins/opt-outs Sinch confirmed and undo refused ones; returns how many contacts changed."""
    usable = [n for n in notifications if applicable_consent(n)]
    if not usable:
        return 0
    received = timezone.now()
    changed: dict[str, tuple[int, ConsentNotification]] = {}
    succeeded = _last_per_number([n for n in usable if n.succeeded])
    if succeeded:
        changed.update(_record_succeeded(bot, succeeded, received))
    for kind, state in STATE_BY_KIND.items():
        refused = _last_per_number([n for n in usable if n.failed and n.kind == kind])
        if refused:
            changed.update(_record_refused(bot, refused, state, received))
    _signal_consent(changed)
    return len(changed)


def _source(notification: ConsentNotification) -> str:
    return f"sinch:{notification.status or notification.kind}"[:200]


def _record_succeeded(
    bot: Bot, latest: dict[str, ConsentNotification], received: datetime
) -> dict[str, tuple[int, ConsentNotification]]:
    rows = [
        Contact(
            bot=bot,
            number=number,
            opt_in_state=STATE_BY_KIND[n.kind],
            opt_in_changed_at=received,
            opt_in_source=_source(n),
        )
        for number, n in latest.items()
    ]
    state, new_state = column(Contact, "opt_in_state"), excluded(Contact, "opt_in_state")
    conflict = (
        f"{_keys()} DO UPDATE SET opt_in_state = {new_state}, "
        f"opt_in_changed_at = {excluded(Contact, 'opt_in_changed_at')}, "
        f"opt_in_source = {excluded(Contact, 'opt_in_source')}, updated_at = {excluded(Contact, 'updated_at')} "
        f"WHERE {state} <> {new_state}"
    )
    written = insert_returning(rows, conflict=conflict, returning=["number", "id"])
    return {number: (pk, latest[number]) for number, pk in written}


def _record_refused(
    bot: Bot, latest: dict[str, ConsentNotification], state: str, received: datetime
) -> dict[str, tuple[int, ConsentNotification]]:
    """A contact recorded in the refused ``state`` goes back to ``unknown``; every one keeps the time and
    Sinch's status (a contact not written yet is created so: the registration's own answer, if it comes
    later, then finds a newer record and leaves it)."""
    rows = [
        Contact(
            bot=bot,
            number=number,
            opt_in_state=OptInState.UNKNOWN,
            opt_in_changed_at=received,
            opt_in_source=_source(n),
        )
        for number, n in latest.items()
    ]
    current = column(Contact, "opt_in_state")
    # ``state`` is one of our OptInState values, never input: safe in the statement's text.
    assert state in STATE_BY_KIND.values()
    conflict = (
        f"{_keys()} DO UPDATE SET opt_in_state = CASE WHEN {current} = '{state}' "
        f"THEN {excluded(Contact, 'opt_in_state')} ELSE {current} END, "
        f"opt_in_changed_at = {excluded(Contact, 'opt_in_changed_at')}, "
        f"opt_in_source = {excluded(Contact, 'opt_in_source')}, updated_at = {excluded(Contact, 'updated_at')}"
    )
    written = insert_returning(rows, conflict=conflict, returning=["number", "id"])
    return {number: (pk, latest[number]) for number, pk in written}


def _signal_consent(changed: dict[str, tuple[int, ConsentNotification]]) -> None:
    if not changed or not signals.opt_in_recorded.has_listeners(Contact):
        return
    events = dict(changed.values())
    for contact in Contact.objects.filter(pk__in=list(events)).order_by("pk"):
        signals.opt_in_recorded.send(
            sender=Contact, contact=contact, opt_in_state=contact.opt_in_state, event=events[contact.pk]
        )
