"""The control API under ``/_sandbox/`` (JSON in and out, no auth): drive the sandbox from another process.

======  ========================  =====================================================================
GET     /_sandbox/                health: ``{"status": "ok", "regions": {"us": url, "eu": url}, "callbacks":
                                  {"step_delay", "statuses_per_callback", "batch_window"}}``
GET     /_sandbox/bots            ``{"bots": [...]}`` (without secrets)
POST    /_sandbox/bots            ``register_bot`` arguments (one object, or ``{"bots": [...]}``) -> 201
POST    /_sandbox/inbound         ``{"bot_id", "from", "text" | "message", "contacts_name", "replying_to",
                                  "extra"}`` -> 201 ``{"message_id": ...}``
GET     /_sandbox/requests        ``?method=&path_suffix=`` -> ``{"count": n, "requests": [...]}``; credentials
                                  are recorded as ``"Bearer ***"``, with ``"token_matched": true|false``
GET     /_sandbox/rates           ``?bot_id=&window=1`` -> ``{"messages", "requests", "peak", "first", "last",
                                  "repeated", "status_callbacks", "failed_status_callbacks", "statuses"}``:
                                  one bot's sends, its busiest window (in messages), repeated sends,
                                  delivery-report callbacks delivered and failed, distinct reports delivered
GET     /_sandbox/callbacks       ``{"callbacks": [...]}`` (every delivery attempt)
GET     /_sandbox/messages        ``{"messages": [...]}`` (accepted messages and their reported states)
GET     /_sandbox/faults          ``{"faults": [...]}`` (pending)
POST    /_sandbox/faults          ``{"kind": "fail" | "slow" | "drop" | "clear", "n", "status", "retry_after",
                                  "seconds", "path_contains", "location"}`` -> ``{"faults": [...]}``
POST    /_sandbox/capability      ``{"bot_id", "number" (or "numbers"), "capable"}``
POST    /_sandbox/wait            ``{"timeout": 5}`` -> ``{"idle": true}`` once no callback is pending
POST    /_sandbox/reset           forget everything except the bots given at start
======  ========================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .responses import Response, error, parse_json
from .validation import ValidationError, require_object

if TYPE_CHECKING:
    from .server import SandboxServer

BOT_FIELDS = (
    "bot_id",
    "token",
    "region",
    "callback_url",
    "callback_key",
    "signature_encoding",
    "require_opt_in",
    "msisdn",
)


def _health(sandbox: SandboxServer, body: Any, query: dict[str, str]) -> Response:
    regions = {region: sandbox.region_url(region) for region in ("us", "eu")}
    sender = sandbox.sender
    callbacks = {
        "step_delay": sender.step_delay,
        "statuses_per_callback": sender.statuses_per_callback,
        "batch_window": sender.batch_window,
    }
    return Response(200, {"status": "ok", "base_url": sandbox.base_url, "regions": regions, "callbacks": callbacks})


def _list_bots(sandbox: SandboxServer, body: Any, query: dict[str, str]) -> Response:
    with sandbox.state.lock:
        return Response(200, {"bots": [bot_state.bot.public() for bot_state in sandbox.state.bots.values()]})


def _register_bots(sandbox: SandboxServer, body: Any, query: dict[str, str]) -> Response:
    obj = require_object(body, "body")
    items = obj["bots"] if isinstance(obj.get("bots"), list) else [obj]
    bots = []
    for item in items:
        item = require_object(item, "bot")
        unknown = set(item) - set(BOT_FIELDS)
        if unknown:
            raise ValidationError("bot", f"unknown fields {sorted(unknown)}")
        bots.append(sandbox.register_bot(**item).public())
    return Response(201, {"bot": bots[0]} if len(bots) == 1 else {"bots": bots})


def _inbound(sandbox: SandboxServer, body: Any, query: dict[str, str]) -> Response:
    obj = require_object(body, "body")
    sender = obj.get("from", obj.get("from_number"))
    if not isinstance(sender, str) or not sender:
        raise ValidationError("from", "is required")
    message_id = sandbox.inject_inbound(
        str(obj.get("bot_id")),
        sender,
        text=obj.get("text"),
        message=obj.get("message"),
        contacts_name=obj.get("contacts_name"),
        replying_to=obj.get("replying_to"),
        extra=obj.get("extra"),
    )
    return Response(201, {"message_id": message_id})


def _requests(sandbox: SandboxServer, body: Any, query: dict[str, str]) -> Response:
    entries = sandbox.requests_log
    if query.get("method"):
        entries = [entry for entry in entries if entry["method"] == query["method"].upper()]
    if query.get("path_suffix"):
        entries = [entry for entry in entries if entry["path"].endswith(query["path_suffix"])]
    return Response(200, {"count": len(entries), "requests": entries})


def _rates(sandbox: SandboxServer, body: Any, query: dict[str, str]) -> Response:
    bot_id = query.get("bot_id") or ""
    sandbox.state.require(bot_id)
    window = float(query.get("window") or 1.0)
    if not 0 < window <= 3600:
        raise ValidationError("window", "must be more than 0 and at most 3600 seconds")
    sends = sandbox.send_times(bot_id)
    reports = [entry for entry in sandbox.callback_log if entry["bot_id"] == bot_id and entry["kind"] == "status"]
    delivered = [entry for entry in reports if entry["status"] is not None and 200 <= entry["status"] < 300]
    # Each report once, however often it was retried (a timed-out attempt may have landed too).
    statuses = {(s.get("message_id"), s.get("state")) for entry in delivered for s in entry["body"].get("statuses", [])}
    return Response(
        200,
        {
            "bot_id": bot_id,
            "window": window,
            "requests": len(sends),
            "messages": sum(count for _, count in sends),
            "peak": sandbox.peak_rate(bot_id, window),
            "first": sends[0][0] if sends else None,
            "last": sends[-1][0] if sends else None,
            "repeated": sandbox.repeated_sends(bot_id),
            "status_callbacks": len(delivered),
            "failed_status_callbacks": len(reports) - len(delivered),
            "statuses": len(statuses),
        },
    )


def _faults(sandbox: SandboxServer, body: Any, query: dict[str, str]) -> Response:
    obj = require_object(body, "body")
    kind, n, where = obj.get("kind"), obj.get("n", 1), obj.get("path_contains")
    if kind == "fail":
        sandbox.faults.fail_next(
            n,
            status=obj.get("status", 503),
            path_contains=where,
            retry_after=obj.get("retry_after"),
            location=obj.get("location"),
        )
    elif kind == "slow":
        sandbox.faults.slow_next(n, float(obj.get("seconds", 1.0)), path_contains=where)
    elif kind == "drop":
        sandbox.faults.drop_next(n, path_contains=where)
    elif kind == "clear":
        sandbox.faults.clear()
    else:
        raise ValidationError("kind", "must be one of fail, slow, drop, clear")
    return Response(200, {"faults": sandbox.faults.pending()})


def _capability(sandbox: SandboxServer, body: Any, query: dict[str, str]) -> Response:
    obj = require_object(body, "body")
    numbers = obj.get("numbers") or [obj.get("number")]
    if not isinstance(obj.get("capable"), bool):
        raise ValidationError("capable", "must be true or false")
    for number in numbers:
        sandbox.set_capability(str(obj.get("bot_id")), number, obj["capable"])
    return Response(200, {})


def _wait(sandbox: SandboxServer, body: Any, query: dict[str, str]) -> Response:
    timeout = float(require_object(body or {}, "body").get("timeout", 5.0))
    return Response(200, {"idle": sandbox.wait_for_callbacks(min(timeout, 60.0))})


def _reset(sandbox: SandboxServer, body: Any, query: dict[str, str]) -> Response:
    sandbox.reset()
    return Response(200, {"status": "reset"})


ROUTES: dict[tuple[str, str], Callable[[SandboxServer, Any, dict[str, str]], Response]] = {
    ("GET", ""): _health,
    ("GET", "bots"): _list_bots,
    ("POST", "bots"): _register_bots,
    ("POST", "inbound"): _inbound,
    ("GET", "requests"): _requests,
    ("GET", "rates"): _rates,
    ("GET", "callbacks"): lambda sandbox, body, query: Response(200, {"callbacks": sandbox.callback_log}),
    ("GET", "messages"): lambda sandbox, body, query: Response(200, {"messages": sandbox.messages}),
    ("GET", "faults"): lambda sandbox, body, query: Response(200, {"faults": sandbox.faults.pending()}),
    ("POST", "faults"): _faults,
    ("POST", "capability"): _capability,
    ("POST", "wait"): _wait,
    ("POST", "reset"): _reset,
}


def dispatch(sandbox: SandboxServer, method: str, route: str, query: dict[str, str], raw_body: bytes) -> Response:
    if route.startswith("conversation/"):  # the Conversation wire's own control API
        from .conversation import control as conversation_control

        try:
            body = parse_json(raw_body)
        except ValidationError as err:
            return error(400, err.details)
        return conversation_control.dispatch(sandbox.conversation, method, route[len("conversation/") :], body)
    handler = ROUTES.get((method, route))
    if handler is None:
        if any(known_route == route for _, known_route in ROUTES):
            return error(405, f"{method} is not allowed on /_sandbox/{route}")
        return error(404, f"No control endpoint {method} /_sandbox/{route}")
    try:
        return handler(sandbox, parse_json(raw_body), query)
    except ValidationError as err:
        return error(400, err.details)
    except KeyError as err:
        return error(404, str(err.args[0]) if err.args else "not found")
    except (TypeError, ValueError) as err:
        return error(400, str(err))
