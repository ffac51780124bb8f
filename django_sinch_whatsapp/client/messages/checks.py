"""Primitive field checks shared by every validator; each failure names the field's dotted path."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn
from urllib.parse import urlsplit

from django_sinch_whatsapp.exceptions import MessageValidationError

from .limits import _LIMIT, Limit

Message = dict[str, Any]

# whatsapp-media-provider.md: "A-Z, a-z, -, and _"; release-notes-whatsapp.md (2020-03-10) says alphanumeric.
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9_-]+")


def _fail(path: str, problem: str, *, limit: Any = None, actual: Any = None) -> NoReturn:
    raise MessageValidationError(path, problem, limit=limit, actual=actual)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _check_size(size: int, path: str, limit: Limit, verb: str) -> None:
    if size > limit.limit:
        _fail(path, f"{verb} {size} {limit.unit}; the limit is {limit.limit}", limit=limit.limit, actual=size)
    if limit.minimum is not None and size < limit.minimum:
        problem = f"{verb} {size} {limit.unit}; at least {limit.minimum} is required"
        _fail(path, problem, limit=limit.minimum, actual=size)


def _object(
    value: Any,
    path: str,
    what: str,
    required: Sequence[str] = (),
    optional: Sequence[str] = (),
    refused: Mapping[str, str] | None = None,
) -> Message:
    """A copy without null members (JSON null means "not given"); unknown keys are refused."""
    if not isinstance(value, Mapping):
        _fail(path, f"must be an object, not {_json_type(value)}")
    known = (*required, *optional)
    result: Message = {}
    for key, item in value.items():
        if refused and key in refused:
            if item is not None:
                _fail(f"{path}.{key}", refused[key])
        elif key not in known:
            _fail(f"{path}.{key}", f"is not a field of {what}; known fields: {', '.join(sorted(known))}")
        elif item is not None:
            result[key] = item
    for key in required:
        if key not in result:
            _fail(f"{path}.{key}", f"is required in {what}")
    return result


def _string(value: Any, path: str, limit: Limit | None = None, *, required: bool = False) -> str:
    if not isinstance(value, str):
        _fail(path, f"must be a string, not {_json_type(value)}")
    if limit is not None:
        _check_size(len(value), path, limit, "is")
    elif required and not value:
        _fail(path, "is empty; a value is required", limit=1, actual=0)
    return value


def _array(value: Any, path: str, limit: Limit | None = None, *, min_items: int = 0) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        _fail(path, f"must be an array, not {_json_type(value)}")
    if limit is not None:
        _check_size(len(value), path, limit, "has")
    elif len(value) < min_items:
        _fail(path, f"has {len(value)} items; at least {min_items} is required", limit=min_items, actual=len(value))
    return list(value)


def _choice(value: Any, path: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        _fail(path, f"is {value!r}; it must be one of {', '.join(choices)}")
    return value


def _kind(data: Any, path: str, what: str, kinds: Sequence[str]) -> str:
    """The ``type`` member that decides which other members an object may have."""
    if not isinstance(data, Mapping):
        _fail(path, f"must be an object, not {_json_type(data)}")
    if data.get("type") is None:
        _fail(f"{path}.type", f"is required in {what}; it must be one of {', '.join(kinds)}")
    return _choice(data["type"], f"{path}.type", kinds)


def _url(value: Any, path: str) -> str:
    # whatsapp-message.md: "Should be either HTTP or HTTPS link."
    _string(value, path, required=True)
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        _fail(path, f"is {value[:100]!r}; it must be an http:// or https:// URL")
    return value


def _provider(value: Any, path: str) -> str:
    _string(value, path, _LIMIT["provider"])
    if not _PROVIDER_NAME.fullmatch(value):
        _fail(path, f"is {value[:100]!r}; a provider name has only letters, digits, '-' and '_'")
    return value


def _number(value: Any, path: str, limit: Limit) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(path, f"must be a number, not {_json_type(value)}")
    if not math.isfinite(value):
        _fail(path, f"is {value}; it must be a finite number")
    bound = limit.limit if value > limit.limit else limit.minimum
    if value > limit.limit or (limit.minimum is not None and value < limit.minimum):
        problem = f"is {value} {limit.unit}; the limit is {bound} (range {limit.minimum} to {limit.limit})"
        _fail(path, problem, limit=bound, actual=value)
    return value


def _media_fields(obj: Message, path: str) -> Message:
    """The members media objects share, wherever they appear (messages, template media, headers)."""
    for key, value in obj.items():
        if key == "url":
            _url(value, f"{path}.url")
        elif key == "provider":
            _provider(value, f"{path}.provider")
        elif key in ("caption", "filename"):
            _string(value, f"{path}.{key}")
    return obj
