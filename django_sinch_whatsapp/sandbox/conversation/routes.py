"""The Conversation API wire of the sandbox, under ``/conversation/{us|eu|br}/``.

``{prefix}/oauth2/token`` stands for ``https://auth.sinch.com/oauth2/token`` (a bot's
base URL override makes the client ask there), ``{prefix}/v1/projects/{project}/...``
for ``https://{region}.conversation.api.sinch.com/v1/projects/{project}/...``.
Errors use the API's body ``{"error": {"code", "message", "status", "details"}}``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from ..ids import iso_timestamp, new_message_id
from ..responses import Response, parse_json
from ..validation import ValidationError
from .state import REGIONS, App

if TYPE_CHECKING:
    from email.message import Message

    from . import ConversationSandbox

PREFIX = "conversation"
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    429: "RESOURCE_EXHAUSTED",
}


def api_error(
    status: int, message: str, details: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None
) -> Response:
    """docs README, "Errors"."""
    body = {
        "error": {
            "code": status,
            "message": message,
            "status": _STATUS_NAMES.get(status, "INTERNAL"),
            "details": details or [],
        }
    }
    return Response(status, body, headers or {})


def bad_request(violations: list[tuple[str, str]]) -> Response:
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "field_violations": [{"field": f, "description": d} for f, d in violations],
        }
    ]
    first = f"{violations[0][0]}: {violations[0][1]}"
    return api_error(400, f"Invalid argument: {first}", details)


def dispatch(
    conversation: ConversationSandbox,
    method: str,
    segments: list[str],
    headers: Message,
    raw_body: bytes,
    query: dict[str, str] | None = None,
) -> tuple[Response, str | None]:
    """``segments`` start after ``conversation``; returns the answer and the app id (for the log)."""
    if not segments or segments[0] not in REGIONS:
        return api_error(
            404, f"No Conversation host for region {segments[0] if segments else ''!r}; use us, eu or br"
        ), None
    region, rest = segments[0], [unquote(s) for s in segments[1:]]
    if rest == ["oauth2", "token"]:
        if method != "POST":
            return api_error(405, "use POST"), None
        return _token(conversation, headers, raw_body), None
    if len(rest) < 4 or rest[:2] != ["v1", "projects"]:
        return api_error(404, f"No endpoint {method} /{'/'.join(rest)}"), None
    project_id, tail = rest[2], rest[3:]
    denied = _authenticate(conversation, project_id, headers.get("Authorization"))
    if denied is not None:
        return denied, None
    try:
        body = parse_json(raw_body)
    except ValidationError as err:
        return bad_request([("body", err.details)]), None
    route = (method, tail[0] if len(tail) == 1 else f"{tail[0]}/*" if len(tail) == 2 else "")
    if route == ("GET", "messages/*"):
        return _get_message(conversation, project_id, tail[1]), None
    handlers = {
        ("POST", "messages:send"): _send,
        ("POST", "events:send"): _event,
        ("POST", "capability:query"): _capability,
        ("POST", "optins:register"): _consent,
        ("POST", "optouts:register"): _consent,
    }
    handler = handlers.get(route)  # type: ignore[arg-type]
    if handler is None:
        return api_error(404, f"No endpoint {method} /v1/projects/{project_id}/{'/'.join(tail)}"), None
    app, refused = _app(conversation, project_id, region, body)
    if refused is not None:
        return refused, None
    assert app is not None
    return handler(conversation, app, body, tail[0], query or {}), app.app_id


# -- auth ---------------------------------------------------------------------------------------------------


def _token(conversation: ConversationSandbox, headers: Message, raw_body: bytes) -> Response:
    state = conversation.state
    with state.lock:
        state.token_requests += 1
        if state.token_429 > 0:
            state.token_429 -= 1
            # docs README: the token endpoint's bucket answers 429 without Retry-After.
            return Response(429, {"error": "rate_limited", "error_description": "Too many token requests"})
    scheme, _, encoded = (headers.get("Authorization") or "").partition(" ")
    try:
        key_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        key_id, secret = "", ""
    form = dict(parse_qsl(raw_body.decode("utf-8", "replace")))
    if form.get("grant_type") != "client_credentials":
        return Response(
            400, {"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"}
        )
    with state.lock:
        known = state.keys.get(key_id)
    if scheme.lower() != "basic" or known is None or not hmac.compare_digest(secret.encode(), known[0].encode()):
        return Response(401, {"error": "invalid_client", "error_description": "Unknown access key or wrong secret"})
    token, expires_in = state.issue_token(key_id)
    return Response(200, {"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": ""})


def _authenticate(conversation: ConversationSandbox, project_id: str, authorization: str | None) -> Response | None:
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token:
        return api_error(401, "Request had invalid credentials.")
    with conversation.state.lock:
        issued = conversation.state.tokens.get(token.strip())
    if issued is None:
        return api_error(401, "Request had invalid credentials.")
    if issued.expires_at <= time.time():
        return api_error(
            401,
            "Request had invalid authentication credentials: the access token expired.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token", error_description="The access token expired"'},
        )
    if issued.project_id != project_id:
        return api_error(403, f"The access key may not use project {project_id}.")
    return None


def _app(
    conversation: ConversationSandbox, project_id: str, region: str, body: Any
) -> tuple[App | None, Response | None]:
    app_id = body.get("app_id") if isinstance(body, dict) else None
    if not isinstance(app_id, str) or not app_id:
        return None, bad_request([("app_id", "is required")])
    with conversation.state.lock:
        app = conversation.state.apps.get((project_id, app_id))
    # docs README, "Regions": the app lives in one region; the others' hosts answer 404.
    if app is None or app.region != region:
        return None, api_error(404, f"App {app_id} not found in project {project_id} on the {region} host")
    return app, None


# -- endpoints ----------------------------------------------------------------------------------------------


def _identity(body: dict[str, Any]) -> str:
    identities = body["recipient"].get("identified_by", {}).get("channel_identities", [])
    for identity in identities:
        if identity.get("channel") == "WHATSAPP":
            return str(identity.get("identity"))
    return str(body["recipient"].get("contact_id", ""))


def _send(conversation: ConversationSandbox, app: App, body: Any, _: str, query: dict[str, str]) -> Response:
    from .validation import send_violations

    violations = send_violations(body)
    if violations:
        return bad_request(violations)
    message_id = new_message_id()
    accepted = iso_timestamp()
    conversation.record_and_report(app, message_id, _identity(body), body, accepted)
    return Response(200, {"message_id": message_id, "accepted_time": accepted})


def _get_message(conversation: ConversationSandbox, project_id: str, message_id: str) -> Response:
    with conversation.state.lock:
        record = conversation.state.messages.get(message_id)
        if record is None or record["project_id"] != project_id:
            return api_error(404, f"Message {message_id} not found")
        # conversation-api.yaml, ConversationMessage.
        return Response(
            200,
            {
                "id": message_id,
                "direction": "TO_CONTACT",
                "app_message": record["body"]["message"],
                "channel_identity": {"channel": "WHATSAPP", "identity": record["identity"], "app_id": ""},
                "conversation_id": record["conversation_id"],
                "contact_id": record["contact_id"],
                "metadata": record["body"].get("message_metadata", ""),
                "accept_time": record["accepted_time"],
            },
        )


def _event(conversation: ConversationSandbox, app: App, body: Any, _: str, query: dict[str, str]) -> Response:
    from .validation import recipient_violations

    violations = recipient_violations(body.get("recipient"))
    event = body.get("event")
    read = event.get("read_message_event") if isinstance(event, dict) else None
    if not isinstance(read, dict) or not read.get("message_id"):
        violations.append(("event", "must hold read_message_event.message_id (the only event WhatsApp takes here)"))
    if violations:
        return bad_request(violations)
    with conversation.state.lock:
        conversation.state.events.append(body)
        inbound = conversation.state.inbound.get(str(read["message_id"]) if read else "")
        if inbound is not None:
            inbound["read"] = True
    return Response(200, {"event_id": new_message_id(), "accepted_time": iso_timestamp()})


def _capability(conversation: ConversationSandbox, app: App, body: Any, _: str, query: dict[str, str]) -> Response:
    from .validation import recipient_violations

    violations = recipient_violations(body.get("recipient"))
    if violations:
        return bad_request(violations)
    request_id = str(body.get("request_id") or new_message_id())
    conversation.report_capability(app, _identity(body), request_id)
    return Response(200, {"app_id": app.app_id, "recipient": body["recipient"], "request_id": request_id})


def _consent(conversation: ConversationSandbox, app: App, body: Any, endpoint: str, query: dict[str, str]) -> Response:
    """conversation-api.yaml, ``OptIn_RegisterOptIn`` / ``OptIn_RegisterOptOut``: the registration is answered
    at once (``OptInResponse``), its outcome later by an ``opt_in_notification``/``opt_out_notification``."""
    from .validation import recipient_violations

    violations = recipient_violations(body.get("recipient"))
    channels = body.get("channels")
    if not isinstance(channels, list) or not channels:
        violations.append(("channels", 'is required: the channels the registration covers, e.g. ["WHATSAPP"]'))
    if violations:
        return bad_request(violations)
    kind = "opt_in" if endpoint.startswith("optins") else "opt_out"
    with conversation.state.lock:
        offered = app.consent_endpoints
    if not offered:
        return api_error(404, f"No endpoint POST /v1/projects/{app.project_id}/{endpoint}")
    # The request_id query parameter names the registration in its notification (generated when absent).
    request_id = str(query.get("request_id") or new_message_id())
    conversation.report_consent(app, kind, _identity(body), request_id)
    registration = {"app_id": app.app_id, "channels": channels, "recipient": body["recipient"]}
    return Response(200, {kind: registration, "request_id": request_id})
