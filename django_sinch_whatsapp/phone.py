"""Phone numbers as Sinch wants them and as we match them.

Requests take digits without ``+`` (``46732001122``); delivery reports echo
``+46732001122``; inbound ``from`` may be bare or local-format. We normalize
once to E.164 for matching and keep the raw value beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

GROUP_PREFIX = "group:"


class InvalidPhoneNumber(ValueError):
    def __init__(self, raw: str, reason: str) -> None:
        self.raw = raw
        self.reason = reason
        super().__init__(f"{raw!r} is not a valid phone number: {reason}")


@dataclass(frozen=True)
class Recipient:
    """A recipient as the API expects it (``wire``) and as we match it (``e164``)."""

    raw: str
    wire: str
    e164: str

    @property
    def is_group(self) -> bool:
        return self.wire.startswith(GROUP_PREFIX)


def to_e164(raw: str, default_region: str | None = None) -> str:
    """Return ``+<digits>`` for a number given with or without ``+``.

    Raises :class:`InvalidPhoneNumber` when it is not a possible number.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber(raw, "empty")
    candidate = text
    if not candidate.startswith("+") and default_region is None:
        digits = "".join(ch for ch in candidate if ch.isdigit())
        if candidate.startswith("00"):
            digits = digits[2:]
        candidate = "+" + digits
    try:
        parsed = phonenumbers.parse(candidate, default_region)
    except phonenumbers.NumberParseException as err:
        raise InvalidPhoneNumber(raw, str(err)) from err
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(raw, "not a possible number for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def recipient(raw: str) -> Recipient:
    """Normalize one ``to`` entry; ``group:`` ids pass through untouched."""
    text = (raw or "").strip()
    if text.startswith(GROUP_PREFIX):
        return Recipient(raw=raw, wire=text, e164=text)
    e164 = to_e164(text)
    return Recipient(raw=raw, wire=e164.lstrip("+"), e164=e164)


def best_effort_e164(raw: str, default_region: str | None = None) -> str:
    """E.164 when the number parses, else the raw text: callbacks are never dropped over a number."""
    try:
        return to_e164(raw, default_region)
    except InvalidPhoneNumber:
        return (raw or "").strip()
