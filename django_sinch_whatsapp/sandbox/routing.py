"""Sinch API routing: region prefix, bearer authentication, then the endpoint table.

Paths look like ``/{us1|eu1}/whatsapp/v1/{bot-id}/...``; the prefix stands for
the regional host (whatsapp-introduction.md, "Base URL").
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import unquote

from .conversation import routes as conversation_routes
from .endpoints import groups, messages, provision, stickers, store
from .responses import Call, Response, error
from .validation import ValidationError

if TYPE_CHECKING:
    from email.message import Message

    from .server import SandboxServer
    from .state import BotState

logger = logging.getLogger(__name__)

Handler = Callable[[Call], Response]
REGIONS = ("us1", "eu1")


def _compile(modules: tuple) -> list[tuple[str, tuple[str, ...], Handler]]:
    table = []
    for module in modules:
        for method, pattern, handler in module.ROUTES:
            table.append((method, tuple(pattern.split("/")), handler))
    return table


ROUTES = _compile((messages, provision, store, stickers, groups))


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    if len(pattern) != len(segments):
        return None
    params = {}
    for part, segment in zip(pattern, segments, strict=True):
        if part.startswith("{"):
            params[part[1:-1]] = unquote(segment)
        elif part != segment:
            return None
    return params


def authenticate(bot_state: BotState | None, bot_id: str, region: str, authorization: str | None) -> Response | None:
    """None when the bearer token is right for this bot in this region, else the 401 to answer."""
    if not authorization:
        return error(401, "Missing Authorization header; expected 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error(401, "Authorization header must use the Bearer scheme: 'Bearer <token>'")
    if bot_state is None or not hmac.compare_digest(token.strip().encode(), bot_state.bot.token.encode()):
        return error(401, f"Invalid bot id or bearer token for bot {bot_id!r}")
    if bot_state.bot.region != region:
        home = bot_state.bot.region
        return error(
            401,
            f"Bot {bot_id!r} is not provisioned in region {region}; it lives in {home}, use the {home} base URL",
        )
    return None


def dispatch(
    sandbox: SandboxServer, method: str, path: str, query: dict[str, str], headers: Message, raw_body: bytes
) -> tuple[Response, str | None]:
    """Answer one Sinch API request; also returns the bot id the path names (for the log)."""
    segments = [segment for segment in path.split("/") if segment]
    # The Conversation API wire lives under its own prefix (sandbox/conversation/).
    if segments and segments[0] == conversation_routes.PREFIX:
        return conversation_routes.dispatch(sandbox.conversation, method, segments[1:], headers, raw_body, query)
    if len(segments) < 4 or segments[0] not in REGIONS or segments[1:3] != ["whatsapp", "v1"]:
        return error(404, f"No endpoint {method} {path}"), None
    region, bot_id, rest = segments[0], unquote(segments[3]), segments[4:]
    bot_state = sandbox.state.get(bot_id)
    denied = authenticate(bot_state, bot_id, region, headers.get("Authorization"))
    if denied is not None:
        return denied, bot_id
    assert bot_state is not None
    allowed = []
    for route_method, pattern, handler in ROUTES:
        params = _match(pattern, rest)
        if params is None:
            continue
        if route_method != method:
            allowed.append(route_method)
            continue
        call = Call(sandbox, sandbox.state, bot_state, method, params, query, raw_body)
        try:
            return handler(call), bot_id
        except ValidationError as err:
            return error(400, err.details), bot_id
    if allowed:
        methods = ", ".join(sorted(set(allowed)))
        return error(405, f"{method} is not allowed here; use {methods}", headers={"Allow": methods}), bot_id
    return error(404, f"No endpoint {method} {path}"), bot_id
