"""Turning what callers give as numbers into what Sinch takes, once for every service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..exceptions import MessageValidationError
from ..phone import InvalidPhoneNumber, Recipient, recipient


@dataclass
class RejectedRecipient:
    """A number we refused before any request, and why."""

    raw: str
    reason: str


def normalize_numbers(
    values: Sequence[str] | str, *, field: str, allow_groups: bool
) -> tuple[list[Recipient], list[RejectedRecipient]]:
    """Normalize to Sinch's form, once each; invalid ones are listed with the reason, not raised.

    ``group:`` ids pass through where ``allow_groups`` (message recipients),
    and are refused where only phone numbers make sense (opt-in, capability ...).
    """
    raw_list = [values] if isinstance(values, str) else list(values)
    if not raw_list:
        raise MessageValidationError(field, "needs at least one number", limit=1, actual=0)
    accepted: dict[str, Recipient] = {}
    rejected: list[RejectedRecipient] = []
    for raw in raw_list:
        try:
            item = recipient(str(raw))
        except InvalidPhoneNumber as err:
            rejected.append(RejectedRecipient(raw=str(raw), reason=err.reason))
            continue
        if item.is_group and not allow_groups:
            rejected.append(RejectedRecipient(raw=str(raw), reason="a group id is not a phone number"))
            continue
        accepted.setdefault(item.wire, item)  # the same number twice is sent once
    return list(accepted.values()), rejected
