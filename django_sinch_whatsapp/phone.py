"""Phone numbers as Sinch wants them and as we match them: exact, or refused.

Requests take digits without ``+`` (``46732001122``); delivery reports echo
``+46732001122``; inbound ``from`` may be bare or local-format. Every entry
point (services, API, admin, callbacks' matching) goes through
:func:`to_e164`, so a number is read one way everywhere.

The rule is "exact or refused": a number is its digits and nothing else.
Spaces, dashes, dots and parentheses between digits are decoration and are
dropped; a leading ``+`` or ``00`` marks the international form. Anything else
(letters, an extension, ``#``, ``;``, a second ``+``) is refused with a plain
sentence, never stripped: stripping sent ``"46732001122 ext. 5"`` to
``+467320011225``, a stranger's number.

How digits without ``+`` are read:

* ``+46 73 ...`` or ``0046 73 ...``: international.
* ``073 ...`` (one leading ``0``, the trunk prefix most countries use): national,
  read with the default region (the bot's, else ``SINCH_WHATSAPP['DEFAULT_REGION']``);
  without one it is refused with a message saying how to fix it.
* other bare digits (``46732001122``, Sinch's own form): international. With a
  default region, when the same digits are also a valid national number
  (``2025550123`` in the US), the one reading that is a valid number wins; when
  both readings are valid numbers the input is ambiguous and refused.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import phonenumbers

GROUP_PREFIX = "group:"

#: ITU-T E.164: at most 15 digits, country code included.
E164_MAX_DIGITS = 15
#: Characters allowed between digits: dropped, they never change the number.
DECORATION = frozenset(" \t\u00a0-.()")

_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "it does not start with a country calling code in use",
    phonenumbers.ValidationResult.TOO_SHORT: "it has too few digits for a number of its country",
    phonenumbers.ValidationResult.TOO_LONG: "it has too many digits for a number of its country",
    phonenumbers.ValidationResult.INVALID_LENGTH: "no number of its country has that many digits",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: (
        "it is a local number without its area code; write the full number with + and the country code"
    ),
}


class InvalidPhoneNumber(ValueError):
    """A number we refuse; ``reason`` is a plain sentence a person can act on."""

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


def is_region(value: str) -> bool:
    """Whether ``value`` is a region ``phonenumbers`` knows (ISO 3166-1 alpha-2, upper case: ``SE``, ``US``)."""
    return value in phonenumbers.SUPPORTED_REGIONS


def to_e164(raw: str, default_region: str | None = None) -> str:
    """Return ``+<digits>`` for ``raw``, or raise :class:`InvalidPhoneNumber` saying why not.

    ``default_region`` (``"SE"``) reads national numbers (``0732001122``); see the module docstring.
    """
    text = (raw if isinstance(raw, str) else "").strip()
    if not text:
        raise InvalidPhoneNumber(raw, "it is empty")
    international, digits = _digits(raw, text)
    region = (default_region or "").upper() or None
    if region is not None and not is_region(region):
        raise InvalidPhoneNumber(
            raw, f"the default region {default_region!r} is not a known country code (e.g. SE, US)"
        )
    if international:
        return _checked(raw, _parse(raw, "+" + digits, None))
    if digits.startswith("0"):
        if region is None:
            raise InvalidPhoneNumber(
                raw,
                "it is written in national format (it starts with 0) and no default region is set: "
                "write it with + and the country code (e.g. +46 73 200 11 22), or set the bot's default region "
                "or SINCH_WHATSAPP['DEFAULT_REGION']",
            )
        return _checked(raw, _parse(raw, digits, region))
    as_international = _parse_or_none("+" + digits, None)
    as_national = _parse_or_none(digits, region) if region is not None else None
    valid = {
        _format(number)
        for number in (as_international, as_national)
        if number is not None and phonenumbers.is_valid_number(number)
    }
    if len(valid) > 1:
        raise InvalidPhoneNumber(
            raw,
            f"it could be {' or '.join(sorted(valid))}: write it with + and the country code",
        )
    if valid:
        return valid.pop()
    if as_international is not None and phonenumbers.is_possible_number(as_international):
        return _format(as_international)
    return _checked(raw, as_international or _parse(raw, "+" + digits, None))


def _digits(raw: str, text: str) -> tuple[bool, str]:
    """(written internationally, the digits); refuses every character that is not a digit or decoration."""
    international = False
    if text.startswith("+"):
        international, text = True, text[1:]
    elif text.startswith("00"):
        international, text = True, text[2:]
    digits: list[str] = []
    depth = 0
    for char in text:
        if "0" <= char <= "9":
            digits.append(char)
        elif char == "(":
            depth += 1
            if depth > 1:
                raise InvalidPhoneNumber(raw, "it has parentheses inside parentheses")
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise InvalidPhoneNumber(raw, "it has a ')' without a '(' before it")
        elif char in DECORATION:
            continue
        elif char == "+":
            raise InvalidPhoneNumber(raw, "'+' may only start the number")
        elif char.isdigit():
            raise InvalidPhoneNumber(raw, f"it contains {char!r}, a digit of another script; write it with 0-9")
        elif char.isalpha():
            raise InvalidPhoneNumber(
                raw,
                "it contains letters; a phone number has only digits (extensions and letters are not accepted, "
                "and are never dropped)",
            )
        else:
            raise InvalidPhoneNumber(
                raw,
                f"it contains {char!r}; a phone number has only digits, with spaces, dashes, dots or "
                "parentheses between them and an optional leading + or 00",
            )
    if depth:
        raise InvalidPhoneNumber(raw, "it has a '(' that is not closed")
    if not digits:
        raise InvalidPhoneNumber(raw, "it has no digits")
    if len(digits) > E164_MAX_DIGITS + (0 if international else 1):
        raise InvalidPhoneNumber(
            raw, f"it has {len(digits)} digits; an international number has at most {E164_MAX_DIGITS}"
        )
    return international, "".join(digits)


def _parse_or_none(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None


def _parse(raw: str, text: str, region: str | None) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as err:
        reasons = {
            phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: _REASONS[
                phonenumbers.ValidationResult.INVALID_COUNTRY_CODE
            ],
            phonenumbers.NumberParseException.TOO_SHORT_NSN: "it has too few digits to be a phone number",
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "it has too few digits to be a phone number",
            phonenumbers.NumberParseException.TOO_LONG: "it has too many digits to be a phone number",
            # phonenumbers says "not a number" for "+12": a few digits are too few to be one.
            phonenumbers.NumberParseException.NOT_A_NUMBER: "it has too few digits to be a phone number",
        }
        raise InvalidPhoneNumber(raw, reasons.get(err.error_type, "it cannot be read as a phone number")) from None


def _checked(raw: str, number: phonenumbers.PhoneNumber) -> str:
    if number.extension:
        raise InvalidPhoneNumber(raw, "it has an extension; WhatsApp numbers have none")
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidPhoneNumber(raw, _REASONS.get(reason, "it is not a possible phone number"))
    e164 = _format(number)
    if len(e164) - 1 > E164_MAX_DIGITS:
        raise InvalidPhoneNumber(raw, f"it has {len(e164) - 1} digits; an international number has at most 15")
    return e164


def _format(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def recipient(raw: str, default_region: str | None = None) -> Recipient:
    """Normalize one ``to`` entry; ``group:`` ids pass through untouched (the caller decides on groups)."""
    text = (raw or "").strip()
    if text.startswith(GROUP_PREFIX):
        return Recipient(raw=raw, wire=text, e164=text)
    e164 = to_e164(text, default_region)
    return Recipient(raw=raw, wire=e164.lstrip("+"), e164=e164)


@functools.lru_cache(maxsize=4096)
def best_effort_e164(raw: str, default_region: str | None = None) -> str:
    """E.164 when the number parses, else the raw text: callbacks are never dropped over a number.

    Kept for the last few thousand numbers: every message comes back as three to five
    reports naming the same recipient, and parsing it was a twentieth of a callback's CPU."""
    try:
        return to_e164(raw, default_region)
    except InvalidPhoneNumber:
        return (raw or "").strip()
