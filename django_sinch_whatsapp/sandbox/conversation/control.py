"""Control API of the Conversation wire, under ``/_sandbox/conversation/`` (JSON, no auth).

======  ==============================  ===============================================================
POST    keys                            ``{"key_id", "key_secret", "project_id"}`` -> 201
POST    apps                            ``{"project_id", "app_id", "region", "webhook_url",
                                        "webhook_secret"}`` -> 201 (re-registering updates)
GET     apps                            ``{"apps": [...]}`` (without secrets)
POST    inbound                         ``{"project_id", "app_id", "from", "text" | "contact_message",
                                        "reply_to"}`` -> 201 ``{"message_id"}``
POST    capability                      ``{"project_id", "app_id", "number", "capable"}``
POST    consent                         ``{"project_id", "app_id", "number", "refused", "endpoints"}``:
                                        registrations for the number FAIL; ``endpoints: false``
                                        makes optins/optouts:register answer 404
GET     tokens                          ``{"requests": n, "issued": n}``
POST    tokens                          ``{"expires_in", "fail_next" (429s), "expire_all"}``
POST    plan                            ``{"statuses": [...] | null}``: delivery reports of next sends
GET     messages                        accepted messages with the statuses reported so far
======  ==============================  ===============================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..responses import Response, error
from ..validation import ValidationError, require_object
from . import ConversationSandbox

_APP_FIELDS = ("project_id", "app_id", "region", "webhook_url", "webhook_secret")


def _keys(conversation: ConversationSandbox, body: Any) -> Response:
    obj = require_object(body, "body")
    conversation.register_key(
        str(obj.get("key_id", "")), str(obj.get("key_secret", "")), project_id=str(obj.get("project_id", ""))
    )
    return Response(201, {"key_id": obj["key_id"]})


def _apps(conversation: ConversationSandbox, body: Any) -> Response:
    obj = require_object(body, "body")
    unknown = set(obj) - set(_APP_FIELDS)
    if unknown:
        raise ValidationError("app", f"unknown fields {sorted(unknown)}")
    app = conversation.register_app(
        str(obj.get("project_id", "")),
        str(obj.get("app_id", "")),
        region=str(obj.get("region", "us")),
        webhook_url=obj.get("webhook_url"),
        webhook_secret=obj.get("webhook_secret"),
    )
    return Response(201, {"app": app.public()})


def _list_apps(conversation: ConversationSandbox, body: Any) -> Response:
    with conversation.state.lock:
        return Response(200, {"apps": [app.public() for app in conversation.state.apps.values()]})


def _inbound(conversation: ConversationSandbox, body: Any) -> Response:
    obj = require_object(body, "body")
    sender = obj.get("from")
    if not isinstance(sender, str) or not sender:
        raise ValidationError("from", "is required")
    message_id = conversation.inject_inbound(
        str(obj.get("project_id")),
        str(obj.get("app_id")),
        sender,
        text=obj.get("text"),
        contact_message=obj.get("contact_message"),
        reply_to=obj.get("reply_to"),
    )
    return Response(201, {"message_id": message_id})


def _capability(conversation: ConversationSandbox, body: Any) -> Response:
    obj = require_object(body, "body")
    if not isinstance(obj.get("capable"), bool):
        raise ValidationError("capable", "must be true or false")
    conversation.set_capability(
        str(obj.get("project_id")), str(obj.get("app_id")), str(obj.get("number", "")), obj["capable"]
    )
    return Response(200, {})


def _consent(conversation: ConversationSandbox, body: Any) -> Response:
    obj = require_object(body, "body")
    for name in ("refused", "endpoints"):
        if name in obj and not isinstance(obj[name], bool):
            raise ValidationError(name, "must be true or false")
    conversation.configure_consent(
        str(obj.get("project_id")),
        str(obj.get("app_id")),
        number=str(obj["number"]) if obj.get("number") else None,
        refused=obj.get("refused", True),
        endpoints=obj.get("endpoints", True),
    )
    return Response(200, {})


def _tokens(conversation: ConversationSandbox, body: Any) -> Response:
    obj = require_object(body or {}, "body")
    conversation.configure_tokens(expires_in=obj.get("expires_in"), fail_next=obj.get("fail_next"))
    expired = conversation.expire_tokens() if obj.get("expire_all") else 0
    return Response(200, {"requests": conversation.token_requests, "expired": expired})


def _token_count(conversation: ConversationSandbox, body: Any) -> Response:
    with conversation.state.lock:
        return Response(200, {"requests": conversation.state.token_requests, "issued": len(conversation.state.tokens)})


def _plan(conversation: ConversationSandbox, body: Any) -> Response:
    statuses = require_object(body, "body").get("statuses")
    if statuses is not None and (not isinstance(statuses, list) or not all(isinstance(s, str) for s in statuses)):
        raise ValidationError("statuses", "must be a list of delivery statuses or null")
    conversation.status_plan = tuple(statuses) if statuses else None
    return Response(200, {"statuses": statuses})


ROUTES: dict[tuple[str, str], Callable[[ConversationSandbox, Any], Response]] = {
    ("POST", "keys"): _keys,
    ("POST", "apps"): _apps,
    ("GET", "apps"): _list_apps,
    ("POST", "inbound"): _inbound,
    ("POST", "capability"): _capability,
    ("POST", "consent"): _consent,
    ("GET", "tokens"): _token_count,
    ("POST", "tokens"): _tokens,
    ("POST", "plan"): _plan,
    ("GET", "messages"): lambda conversation, body: Response(200, {"messages": conversation.messages}),
}


def dispatch(conversation: ConversationSandbox, method: str, route: str, body: Any) -> Response:
    handler = ROUTES.get((method, route))
    if handler is None:
        return error(404, f"No control endpoint {method} /_sandbox/conversation/{route}")
    try:
        return handler(conversation, body)
    except ValidationError as err:
        return error(400, err.details)
    except KeyError as err:
        return error(404, f"not found: {err.args[0] if err.args else ''}")
    except (TypeError, ValueError) as err:
        return error(400, str(err))
