"""Validation of the contact cards in a ``contacts`` message."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, NamedTuple

from .checks import Message, _array, _choice, _fail, _object, _string, _url

_BIRTHDAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _CardPart(NamedTuple):
    what: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    choices: Mapping[str, tuple[str, ...]]


# whatsapp-callback.md, "Contact object" and its sub-tables (the send page asks for "valid contact cards");
# wa_id on phones is in the send page's sample. whatsapp-api.yaml requires name.formatted_name,
# addresses[].city, emails[].email, org.company, phones[].phone and urls[].url.
_HOME_WORK = ("HOME", "WORK")
_ADDRESS = ("type", "street", "state", "zip", "country", "country_code")
_CARD_LISTS = {
    "addresses": _CardPart("contact addresses", ("city",), _ADDRESS, {"type": _HOME_WORK}),
    "emails": _CardPart("contact emails", ("email",), ("type",), {"type": _HOME_WORK}),
    "ims": _CardPart("contact IMs", (), ("service", "user_id"), {}),
    "phones": _CardPart(
        "contact phones", ("phone",), ("type", "wa_id"), {"type": ("CELL", "MAIN", "HOME", "WORK", "IPHONE")}
    ),
    "urls": _CardPart("contact URLs", ("url",), ("type",), {"type": _HOME_WORK}),
}
_CARD_OBJECTS = {
    "name": _CardPart(
        "contact names", ("formatted_name",), ("first_name", "last_name", "middle_name", "suffix", "prefix"), {}
    ),
    "org": _CardPart("contact organizations", ("company",), ("department", "title"), {}),
}


def _card_part(data: Any, path: str, part: _CardPart) -> Message:
    obj = _object(data, path, part.what, part.required, part.optional)
    for key, value in obj.items():
        if key in part.choices:
            _choice(value, f"{path}.{key}", part.choices[key])
        else:
            _string(value, f"{path}.{key}", required=key in part.required)
            if key in part.required and not value.strip():
                _fail(f"{path}.{key}", f"is only whitespace; whatsapp-api.yaml requires it in {part.what}")
    return obj


def _contact_card(data: Any, path: str) -> Message:
    optional = ("addresses", "birthday", "emails", "ims", "org", "phones", "urls", "contact_image_url")
    card = _object(data, path, "contact cards", ("name",), optional)
    for key, value in list(card.items()):
        if key in _CARD_LISTS:
            items = _array(value, f"{path}.{key}")
            card[key] = [_card_part(item, f"{path}.{key}[{i}]", _CARD_LISTS[key]) for i, item in enumerate(items)]
        elif key in _CARD_OBJECTS:
            card[key] = _card_part(value, f"{path}.{key}", _CARD_OBJECTS[key])
        elif key == "contact_image_url":
            _url(value, f"{path}.{key}")
        elif key == "birthday" and not (_BIRTHDAY.fullmatch(_string(value, f"{path}.{key}")) and _is_date(value)):
            _fail(f"{path}.birthday", f"is {value[:40]!r}; it must be a date written YYYY-MM-DD")
    return card


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
