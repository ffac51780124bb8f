"""Opt-in/out, capability, media providers and blacklist (``/provision/...`` and ``/capability``)."""

from __future__ import annotations

import re
from typing import Any

from ..responses import Call, Response
from ..validation import ValidationError, get_str, parse_int, require_object, validate_numbers

# whatsapp-media-provider.md: "A-Z, a-z, -, and _ allowed. 200 characters maximum."
PROVIDER_NAME = re.compile(r"^[A-Za-z_-]{1,200}$")
BLACKLIST_PAGE_SIZE = 100  # whatsapp-blacklist-callback.md: one hundred numbers per page, first page 0


def opt_in(call: Call) -> Response:
    """whatsapp-opt-in-and-outs.md: opting in an opted-in number is ignored, not rejected."""
    numbers = validate_numbers(call.json())
    with call.state.lock:
        for raw, digits in numbers:
            call.bot_state.opted_in[digits] = raw
    return Response(200)


def opt_out(call: Call) -> Response:
    """``DELETE /provision/optin`` and the deprecated ``POST /provision/optout``."""
    numbers = validate_numbers(call.json())
    with call.state.lock:
        for _, digits in numbers:
            call.bot_state.opted_in.pop(digits, None)
    return Response(200)


def capability(call: Call) -> Response:
    """whatsapp-capability.md: GET carries its JSON body too; msisdn echoes the number as sent."""
    numbers = validate_numbers(call.json())
    with call.state.lock:
        capabilities = [{"msisdn": raw, "capable": call.bot_state.capable(digits)} for raw, digits in numbers]
    return Response(200, {"capabilities": capabilities})


def _validate_provider(body: Any) -> dict[str, Any]:
    obj = require_object(body, "body")
    name = get_str(obj, "name", "")
    if not PROVIDER_NAME.match(name or ""):
        raise ValidationError("name", "may contain only A-Z, a-z, '-' and '_', 200 characters at most")
    if obj.get("type") != "www":
        raise ValidationError("type", f"must be 'www' (got {obj.get('type')!r})")
    config = require_object(obj.get("config"), "config")
    if ("basic" in config) == ("bearer" in config):
        raise ValidationError("config", "must hold exactly one of basic and bearer")
    if "basic" in config:
        basic = require_object(config["basic"], "config.basic")
        get_str(basic, "username", "config.basic")
        get_str(basic, "password", "config.basic")
    else:
        get_str(config, "bearer", "config")
    return {"name": name, "type": "www", "config": config}


def add_provider(call: Call) -> Response:
    """whatsapp-media-provider.md: reusing a name overwrites the previous entry."""
    provider = _validate_provider(call.json())
    with call.state.lock:
        call.bot_state.providers[provider["name"]] = provider
    return Response(200)


def list_providers(call: Call) -> Response:
    with call.state.lock:
        providers = list(call.bot_state.providers.values())
    return Response(200, {"settings": {"application": {"media": {"providers": providers}}}})


def delete_provider(call: Call) -> Response:
    with call.state.lock:
        call.bot_state.providers.pop(call.params["name"], None)
    return Response(200)


def blacklist_add(call: Call) -> Response:
    numbers = validate_numbers(call.json())
    with call.state.lock:
        for _, digits in numbers:
            call.bot_state.blacklist[digits] = None
    return Response(200)


def blacklist_remove(call: Call) -> Response:
    numbers = validate_numbers(call.json())
    with call.state.lock:
        for _, digits in numbers:
            call.bot_state.blacklist.pop(digits, None)
    return Response(200)


def blacklist_page(call: Call) -> Response:
    """``?page=N`` (0 is the first page); numbers come back with a ``+`` as in the page sample."""
    page = parse_int(call.query.get("page", "0"), "page", minimum=0)
    with call.state.lock:
        numbers = list(call.bot_state.blacklist)
    start = page * BLACKLIST_PAGE_SIZE
    return Response(200, {"numbers": [f"+{digits}" for digits in numbers[start : start + BLACKLIST_PAGE_SIZE]]})


ROUTES = [
    ("POST", "provision/optin", opt_in),
    ("DELETE", "provision/optin", opt_out),
    ("POST", "provision/optout", opt_out),
    ("GET", "capability", capability),
    ("POST", "capability", capability),
    ("POST", "provision/provider", add_provider),
    ("GET", "provision/provider", list_providers),
    ("DELETE", "provision/provider/{name}", delete_provider),
    ("POST", "provision/blacklist", blacklist_add),
    ("DELETE", "provision/blacklist", blacklist_remove),
    ("GET", "provision/blacklist", blacklist_page),
]
