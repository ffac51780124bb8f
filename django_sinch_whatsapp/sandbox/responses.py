"""What an endpoint returns, and the request it gets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from .validation import ValidationError

if TYPE_CHECKING:
    from .server import SandboxServer
    from .state import BotState, SandboxState


@dataclass
class Response:
    """``body`` is JSON-serializable, or None for an empty body (Sinch's "Empty response body")."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, details: str, message: str | None = None, headers: dict[str, str] | None = None) -> Response:
    """whatsapp-introduction.md, "HTTP Errors": ``{"message": ..., "details": ...}``."""
    return Response(status, {"message": message or HTTPStatus(status).phrase, "details": details}, headers or {})


def bad_request(details: str) -> Response:
    return error(400, details)


def parse_json(raw_body: bytes) -> Any:
    """The body as JSON, None when empty; ValidationError on malformed JSON."""
    if not raw_body.strip():
        return None
    try:
        return json.loads(raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValidationError("body", f"malformed JSON ({err})") from None


@dataclass
class Call:
    """One authenticated Sinch API request for one bot."""

    sandbox: SandboxServer
    state: SandboxState
    bot_state: BotState
    method: str
    params: dict[str, str]
    query: dict[str, str]
    raw_body: bytes

    def json(self) -> Any:
        return parse_json(self.raw_body)
