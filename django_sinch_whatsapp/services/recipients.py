"""Turning what callers give as numbers into what Sinch takes, once for every service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from ..conf import app_settings
from ..exceptions import MessageValidationError, SinchConfigurationError
from ..models import Bot, Contact
from ..phone import InvalidPhoneNumber, Recipient, is_region, recipient
from ..queries import contacts_with_numbers

#: Why a ``group:`` id is refused as a message recipient (release-notes-whatsapp.md, 2021-06-08).
GROUPS_REMOVED_REASON = (
    "WhatsApp groups were removed by Sinch on 2021-06-08; a group id is not accepted as a recipient "
    "unless SINCH_WHATSAPP['ALLOW_GROUP_RECIPIENTS'] is True"
)


@dataclass
class RejectedRecipient:
    """A number we refused before any request, and why."""

    raw: str
    reason: str


def default_region_for(bot: Bot | None) -> str | None:
    """The region national numbers are read in: the bot's, else ``SINCH_WHATSAPP['DEFAULT_REGION']``, else None."""
    region = (getattr(bot, "default_region", "") or "").upper()
    if region:
        return region
    configured = str(app_settings.DEFAULT_REGION or "").upper()
    if configured and not is_region(configured):
        raise SinchConfigurationError(
            f"SINCH_WHATSAPP['DEFAULT_REGION'] is {app_settings.DEFAULT_REGION!r}, not a two-letter country code "
            "phonenumbers knows (e.g. 'SE', 'US')"
        )
    return configured or None


def normalize_numbers(
    values: Sequence[str] | str, *, field: str, allow_groups: bool, default_region: str | None = None
) -> tuple[list[Recipient], list[RejectedRecipient]]:
    """Normalize to Sinch's form, once each; invalid ones are listed with the reason, not raised.

    ``group:`` ids are refused where only phone numbers make sense (opt-in,
    capability ...); where ``allow_groups`` (message recipients) they still are,
    unless the project opted in with ``ALLOW_GROUP_RECIPIENTS``: Sinch removed
    groups on 2021-06-08. ``default_region`` reads national numbers (see
    :func:`default_region_for`).
    """
    raw_list = [values] if isinstance(values, str) else list(values)
    if not raw_list:
        raise MessageValidationError(field, "needs at least one number", limit=1, actual=0)
    accepted: dict[str, Recipient] = {}
    rejected: list[RejectedRecipient] = []
    for raw in raw_list:
        try:
            item = recipient(str(raw), default_region)
        except InvalidPhoneNumber as err:
            rejected.append(RejectedRecipient(raw=str(raw), reason=err.reason))
            continue
        if item.is_group and not allow_groups:
            rejected.append(RejectedRecipient(raw=str(raw), reason="a group id is not a phone number"))
            continue
        if item.is_group and not app_settings.ALLOW_GROUP_RECIPIENTS:
            rejected.append(RejectedRecipient(raw=str(raw), reason=GROUPS_REMOVED_REASON))
            continue
        accepted.setdefault(item.wire, item)  # the same number twice is sent once
    return list(accepted.values()), rejected


def contacts_for(bot: Bot, numbers: Iterable[str]) -> QuerySet[Contact]:
    """The bot's contacts for these E.164 numbers, created when missing (two or three queries)."""
    numbers = list(numbers)
    known = set(Contact.objects.filter(bot=bot, number__in=numbers).values_list("number", flat=True))
    missing = [Contact(bot=bot, number=number) for number in numbers if number not in known]
    if missing:
        Contact.objects.bulk_create(missing, ignore_conflicts=True)
    return Contact.objects.filter(bot=bot, number__in=numbers)


def contacts_by_number(bot: Bot, numbers: Iterable[str]) -> dict[str, Contact]:
    """The bot's contacts for these E.164 numbers by number, created when missing (one query when all exist)."""
    numbers = list(numbers)
    if not numbers:
        return {}
    found = {c.number: c for c in contacts_with_numbers(bot, numbers)}
    missing = [number for number in numbers if number not in found]
    if missing:
        Contact.objects.bulk_create([Contact(bot=bot, number=number) for number in missing], ignore_conflicts=True)
        found.update((c.number, c) for c in Contact.objects.filter(bot=bot, number__in=missing))
    return found
