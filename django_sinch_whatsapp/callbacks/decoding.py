"""Raw callback bytes -> a JSON value every database can store, with what had to change.

The rule (DESIGN.md rule 5): a verified body that is not JSON at all is
refused (400, nothing stored); a body that is JSON is stored. Where a JSON
value cannot be stored as sent (PostgreSQL's jsonb refuses ``\\u0000`` and lone
surrogates; ``NaN``, ``Infinity`` and ``1e400`` have no JSON form once read),
it is replaced and the replacement is listed in ``anomalies``: the raw bytes
keep the original. A body nested deeper than Python can read is stored with no
payload ("uninterpretable").
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

#: Deeper structures are cut (replaced by a marker): Sinch's callbacks are a few levels deep,
#: and the JSON encoder that stores the payload is recursive.
MAX_DEPTH = 64
#: The list stored on the row is bounded; the raw body has the rest.
MAX_ANOMALIES = 50
REPLACEMENT = "\ufffd"
TOO_DEEP = f"(nested deeper than {MAX_DEPTH} levels: see the raw body)"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class NotJSON(ValueError):
    """The body is not JSON; the message says why, for the 400 answer."""


@dataclass
class Decoded:
    #: The storable JSON value, or None when the body could not be read at all.
    payload: Any
    readable: bool
    anomalies: list[str] = field(default_factory=list)


def decode_body(body: bytes) -> Decoded:
    """Read ``body`` as JSON; raise :class:`NotJSON` if it is not JSON at all."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NotJSON(f"Body is not UTF-8 JSON (byte {err.start}).") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        value = json.loads(text)
    except RecursionError:
        return Decoded(None, False, ["body nested too deep to read; kept as raw bytes only"])
    except ValueError as err:
        raise NotJSON(f"Body is not JSON: {err}.") from None
    anomalies: list[str] = []
    payload = _storable(value, anomalies)
    if len(anomalies) > MAX_ANOMALIES:
        anomalies[MAX_ANOMALIES:] = [f"... and {len(anomalies) - MAX_ANOMALIES} more"]
    return Decoded(payload, True, anomalies)


def _clean_text(text: str, where: str, anomalies: list[str]) -> str:
    if not _UNSTORABLE.search(text):
        return text
    anomalies.append(f"{where}: NUL or lone surrogate replaced by U+FFFD")
    return _UNSTORABLE.sub(REPLACEMENT, text)


def _clean_scalar(value: Any, where: str, anomalies: list[str]) -> Any:
    if isinstance(value, str):
        return _clean_text(value, where, anomalies)
    if isinstance(value, float) and not math.isfinite(value):
        anomalies.append(f"{where}: {value!r} is not a storable JSON number; replaced by null")
        return None
    return value


def _storable(value: Any, anomalies: list[str]) -> Any:
    """A copy of ``value`` without unstorable strings or numbers, built without recursion."""
    if not isinstance(value, (dict, list)):
        return _clean_scalar(value, "$", anomalies)
    root: Any = {} if isinstance(value, dict) else []
    # (source, copy, path, depth)
    stack: list[tuple[Any, Any, str, int]] = [(value, root, "$", 1)]
    while stack:
        source, copy, path, depth = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, child in items:
            if isinstance(key, str):
                clean_key: Any = _clean_text(key, f"{path} key", anomalies)
                where = f"{path}.{clean_key[:40]}"
            else:
                clean_key, where = key, f"{path}[{key}]"
            if isinstance(child, (dict, list)):
                if depth >= MAX_DEPTH:
                    anomalies.append(f"{where}: nested deeper than {MAX_DEPTH} levels; cut")
                    new: Any = TOO_DEEP
                else:
                    new = {} if isinstance(child, dict) else []
                    stack.append((child, new, where, depth + 1))
            else:
                new = _clean_scalar(child, where, anomalies)
            if isinstance(copy, dict):
                copy[clean_key] = new
            else:
                copy.append(new)
    return root


def storable_headers(headers: dict[str, str]) -> dict[str, str]:
    """Header values as PostgreSQL can store them (a header could carry NUL bytes)."""
    return {name: _UNSTORABLE.sub(REPLACEMENT, value) for name, value in headers.items()}
