"""Request validation helpers with Sinch-style 400 details (``"<field>: <what is wrong>"``).

Message bodies are checked in :mod:`.message_validation`; the small bodies of
the other endpoints are checked next to their endpoint with these helpers.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

MAX_NUMBERS = 20  # whatsapp-message.md / whatsapp-opt-in-and-outs.md: 1 to 20 elements
_SEPARATORS = re.compile(r"[\s\-().]")
_MSISDN = re.compile(r"^\+?([1-9]\d{6,14})$")


class ValidationError(Exception):
    """One invalid field; ``details`` is the Sinch-style text for the 400 body."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem

    @property
    def details(self) -> str:
        return f"{self.field}: {self.problem}"


def normalize_msisdn(value: Any) -> str | None:
    """The digits of an international number (``46732001122`` or ``+46 73-200 11 22``), or None."""
    if not isinstance(value, str):
        return None
    match = _MSISDN.match(_SEPARATORS.sub("", value))
    return match.group(1) if match else None


def sender_key(value: str) -> str:
    """How inbound senders are matched: the E.164 digits, else the value as sent (``0732001122``)."""
    return normalize_msisdn(value) or _SEPARATORS.sub("", value).lstrip("+")


def require_object(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        raise ValidationError(field, "is required")
    if not isinstance(value, dict):
        raise ValidationError(field, "must be a JSON object")
    return value


def get_str(
    obj: dict[str, Any], key: str, path: str, *, required: bool = True, max_length: int | None = None
) -> str | None:
    """``obj[key]`` as a string, checked for presence, emptiness and length."""
    field = f"{path}.{key}" if path else key
    value = obj.get(key)
    if value is None:
        if required:
            raise ValidationError(field, "is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(field, "must be a string")
    if required and not value.strip():
        raise ValidationError(field, "must not be blank")
    if max_length is not None and len(value) > max_length:
        raise ValidationError(field, f"must be at most {max_length} characters (got {len(value)})")
    return value


def get_list(
    obj: dict[str, Any], key: str, path: str, *, minimum: int = 0, maximum: int | None = None, required: bool = True
) -> list[Any] | None:
    field = f"{path}.{key}" if path else key
    value = obj.get(key)
    if value is None:
        if required:
            raise ValidationError(field, "is required")
        return None
    if not isinstance(value, list):
        raise ValidationError(field, "must be an array")
    if len(value) < minimum or (maximum is not None and len(value) > maximum):
        bounds = f"{minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValidationError(field, f"must contain {bounds} elements (got {len(value)})")
    return value


def require_url(value: Any, field: str) -> str:
    """An absolute http(s) URL (whatsapp-message.md: "Should be either HTTP or HTTPS link")."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a URL")
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValidationError(field, f"must be an absolute http or https URL (got {value[:100]!r})")
    return value


def validate_numbers(body: Any) -> list[tuple[str, str]]:
    """``{"numbers": [...]}`` with 1 to 20 MSISDNs -> [(as sent, digits)]."""
    obj = require_object(body, "body")
    numbers = get_list(obj, "numbers", "", minimum=1, maximum=MAX_NUMBERS)
    assert numbers is not None
    result = []
    for index, item in enumerate(numbers):
        digits = normalize_msisdn(item)
        if digits is None:
            raise ValidationError(f"numbers[{index}]", f"{str(item)[:40]!r} is not a valid MSISDN")
        result.append((item, digits))
    return result


def parse_int(value: Any, field: str, *, minimum: int) -> int:
    if isinstance(value, bool):
        raise ValidationError(field, "must be an integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(field, "must be an integer") from None
    if isinstance(value, float) and value != number:
        raise ValidationError(field, "must be an integer")
    if number < minimum:
        raise ValidationError(field, f"must be at least {minimum}")
    return number
