"""Legacy groups (whatsapp-api.yaml only; Sinch removed them on 2021-06-08): a minimal in-memory model.

Nobody can join a sandbox group through the API (people join through the
invite link), so ``SandboxServer.join_group`` adds members for tests.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from ..ids import iso_timestamp
from ..responses import Call, Response
from ..validation import ValidationError, get_str, require_object, require_url, validate_numbers


def _group(call: Call) -> dict[str, Any]:
    group = call.bot_state.groups.get(call.params["group_id"])
    if group is None:
        raise ValidationError("group-id", f"unknown group {call.params['group_id']!r}")
    return group


def new_group(creator: str, subject: str, taken: Any) -> tuple[str, dict[str, Any]]:
    """A group id shaped like the YAML's ``group:447506616260-1565342732`` (creator, creation second)."""
    second = int(time.time())
    while f"group:{creator}-{second}" in taken:
        second += 1
    group_id = f"group:{creator}-{second}"
    group = {
        "admins": [creator],
        "creation_time": iso_timestamp(),
        "creator": creator,
        "members": [],
        "subject": subject,
        "icon": None,
        "invite_link": None,
    }
    return group_id, group


def list_groups(call: Call) -> Response:
    with call.state.lock:
        return Response(200, {"groups": list(call.bot_state.groups)})


def create_group(call: Call) -> Response:
    """200 with no body (the YAML documents none); the new id shows up in ``GET /groups``."""
    subject = get_str(require_object(call.json(), "body"), "subject", "")
    bot = call.bot_state.bot
    with call.state.lock:
        group_id, group = new_group(bot.msisdn or bot.bot_id, subject or "", call.bot_state.groups)
        call.bot_state.groups[group_id] = group
    return Response(200)


def group_info(call: Call) -> Response:
    with call.state.lock:
        group = _group(call)
        keys = ("admins", "creation_time", "creator", "members", "subject")
        return Response(200, {key: group[key] for key in keys})


def update_subject(call: Call) -> Response:
    subject = get_str(require_object(call.json(), "body"), "subject", "")
    with call.state.lock:
        _group(call)["subject"] = subject
    return Response(200)


def leave_group(call: Call) -> Response:
    with call.state.lock:
        _group(call)
        del call.bot_state.groups[call.params["group_id"]]
    return Response(200)


def remove_members(call: Call) -> Response:
    numbers = validate_numbers(call.json())
    with call.state.lock:
        group = _group(call)
        removed = {digits for _, digits in numbers}
        group["members"] = [member for member in group["members"] if member not in removed]
        group["admins"] = [admin for admin in group["admins"] if admin not in removed]
    return Response(200)


def set_icon(call: Call) -> Response:
    url = require_url(require_object(call.json(), "body").get("url"), "url")
    with call.state.lock:
        _group(call)["icon"] = url
    return Response(200)


def add_admins(call: Call) -> Response:
    """release-notes-whatsapp.md 2020-01-31: adding an admin who is not a member fails."""
    numbers = validate_numbers(call.json())
    with call.state.lock:
        group = _group(call)
        for index, (raw, digits) in enumerate(numbers):
            if digits not in group["members"]:
                raise ValidationError(f"numbers[{index}]", f"{raw!r} is not a member of this group")
        group["admins"].extend(digits for _, digits in numbers if digits not in group["admins"])
    return Response(200)


def remove_admins(call: Call) -> Response:
    numbers = validate_numbers(call.json())
    with call.state.lock:
        group = _group(call)
        removed = {digits for _, digits in numbers}
        group["admins"] = [admin for admin in group["admins"] if admin not in removed]
    return Response(200)


def get_invite(call: Call) -> Response:
    with call.state.lock:
        group = _group(call)
        if not group["invite_link"]:
            group["invite_link"] = f"https://chat.whatsapp.com/{secrets.token_urlsafe(16)}"
        return Response(200, {"invite_link": group["invite_link"]})


def delete_invite(call: Call) -> Response:
    with call.state.lock:
        _group(call)["invite_link"] = None
    return Response(200)


ROUTES = [
    ("GET", "groups", list_groups),
    ("POST", "groups", create_group),
    ("GET", "groups/{group_id}", group_info),
    ("PATCH", "groups/{group_id}", update_subject),
    ("DELETE", "groups/{group_id}", leave_group),
    ("DELETE", "groups/{group_id}/member", remove_members),
    ("POST", "groups/{group_id}/icon", set_icon),
    ("POST", "groups/{group_id}/admin", add_admins),
    ("DELETE", "groups/{group_id}/admin", remove_admins),
    ("GET", "groups/{group_id}/invite", get_invite),
    ("DELETE", "groups/{group_id}/invite", delete_invite),
]
