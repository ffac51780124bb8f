"""The callback store (whatsapp-callback-store.md): every callback the sandbox produced, sent or not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..ids import parse_iso, utc_now
from ..responses import Call, Response
from ..validation import ValidationError, parse_int, require_object, sender_key

DEFAULT_START = datetime(2019, 9, 1, tzinfo=UTC)  # "Default 2019-09-01"
DEFAULT_PAGE_SIZE = 20


def status_updates(call: Call) -> Response:
    """``GET /callbacks/status/{message-id}``: the delivery reports produced so far, oldest first."""
    with call.state.lock:
        results = list(call.bot_state.status_store.get(call.params["message_id"], []))
    return Response(200, {"results": results})


def _time(options: dict[str, Any], key: str, default: datetime) -> datetime:
    value = options.get(key)
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise ValidationError(key, "must be an ISO-8601 datetime string")
    try:
        return parse_iso(value)
    except ValueError:
        raise ValidationError(key, f"{value!r} is not a valid ISO-8601 datetime") from None


def notifications(call: Call) -> Response:
    """``GET /callbacks/notifications`` with a JSON body (query parameters also accepted); page starts at 1."""
    body = call.json()
    options: dict[str, Any] = dict(call.query)
    if body is not None:
        options.update(require_object(body, "body"))
    start = _time(options, "start_time", DEFAULT_START)
    end = _time(options, "end_time", utc_now())
    sender = None
    if options.get("from") not in (None, ""):
        if not isinstance(options["from"], str):
            raise ValidationError("from", "must be an MSISDN string")
        sender = sender_key(options["from"])
    page = parse_int(options.get("page", 1), "page", minimum=1)
    page_size = parse_int(options.get("page_size", DEFAULT_PAGE_SIZE), "page_size", minimum=1)
    with call.state.lock:
        matching = [
            payload
            for received, from_digits, payload in call.bot_state.notification_store
            if start <= received <= end and (sender is None or from_digits == sender)
        ]
    first = (page - 1) * page_size
    return Response(200, {"results": matching[first : first + page_size]})


ROUTES = [
    ("GET", "callbacks/status/{message_id}", status_updates),
    ("GET", "callbacks/notifications", notifications),
]
