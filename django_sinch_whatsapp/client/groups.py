"""Legacy group endpoints of the client (whatsapp-api.yaml, the ``Group`` tag).

Deprecated: Sinch removed group support on 2021-06-08 (release-notes-whatsapp.md,
"Remove deprecated support for groups"); the pages no longer document it. The
methods remain for accounts and tools that still talk to an old host, and each
call emits a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from .mixin import EndpointMixin, numbers_body, require_text, response_json, segment
from .results import GroupInfo

GROUPS_REMOVED = "2021-06-08"


def _warn(method: str) -> None:
    warnings.warn(
        f"SinchWhatsAppClient.{method}() uses the WhatsApp groups API, which Sinch deprecated and removed "
        f"on {GROUPS_REMOVED} (release-notes-whatsapp.md); expect errors from current hosts.",
        DeprecationWarning,
        stacklevel=3,
    )


class GroupsMixin(EndpointMixin):
    def _group_path(self, group_id: str, tail: str = "") -> str:
        path = f"groups/{segment('group_id', group_id)}"
        return f"{path}/{tail}" if tail else path

    def list_groups(self) -> list[str]:
        """Deprecated (groups removed upstream 2021-06-08). ``GET /groups``: the bot's group ids."""
        _warn("list_groups")
        data = response_json(self.request("GET", "groups", idempotent=True))
        groups = data.get("groups") if isinstance(data, dict) else None
        return [str(group) for group in groups] if isinstance(groups, list) else []

    def create_group(self, subject: str) -> None:
        """Deprecated (groups removed upstream 2021-06-08). ``POST /groups``.

        The YAML documents an empty 200; the new id shows up in :meth:`list_groups`.
        Never retried after it may have reached Sinch: that would make a second group.
        """
        _warn("create_group")
        body = {"subject": require_text("subject", subject)}
        self.request("POST", "groups", json_body=body, idempotent=False)

    def group_info(self, group_id: str) -> GroupInfo:
        """Deprecated (groups removed upstream 2021-06-08). ``GET /groups/{group-id}``."""
        _warn("group_info")
        response = self.request("GET", self._group_path(group_id), idempotent=True)
        return GroupInfo.from_wire(group_id, response_json(response))

    def set_group_subject(self, group_id: str, subject: str) -> None:
        """Deprecated (groups removed upstream 2021-06-08). ``PATCH /groups/{group-id}``."""
        _warn("set_group_subject")
        body = {"subject": require_text("subject", subject)}
        self.request("PATCH", self._group_path(group_id), json_body=body, idempotent=True)

    def leave_group(self, group_id: str) -> None:
        """Deprecated (groups removed upstream 2021-06-08). ``DELETE /groups/{group-id}``."""
        _warn("leave_group")
        self.request("DELETE", self._group_path(group_id), idempotent=True)

    def remove_group_members(self, group_id: str, numbers: Sequence[str]) -> None:
        """Deprecated (groups removed upstream 2021-06-08). ``DELETE /groups/{group-id}/member``."""
        _warn("remove_group_members")
        body = numbers_body(numbers)
        self.request("DELETE", self._group_path(group_id, "member"), json_body=body, idempotent=True)

    def set_group_icon(self, group_id: str, url: str) -> None:
        """Deprecated (groups removed upstream 2021-06-08). ``POST /groups/{group-id}/icon``; overwrites the icon."""
        _warn("set_group_icon")
        body = {"url": require_text("url", url)}
        self.request("POST", self._group_path(group_id, "icon"), json_body=body, idempotent=True)

    def add_group_admins(self, group_id: str, numbers: Sequence[str]) -> None:
        """Deprecated (groups removed upstream 2021-06-08). ``POST /groups/{group-id}/admin``.

        Each number must already be a member (release-notes-whatsapp.md, 2020-01-31).
        """
        _warn("add_group_admins")
        body = numbers_body(numbers)
        self.request("POST", self._group_path(group_id, "admin"), json_body=body, idempotent=True)

    def remove_group_admins(self, group_id: str, numbers: Sequence[str]) -> None:
        """Deprecated (groups removed upstream 2021-06-08). ``DELETE /groups/{group-id}/admin``."""
        _warn("remove_group_admins")
        body = numbers_body(numbers)
        self.request("DELETE", self._group_path(group_id, "admin"), json_body=body, idempotent=True)

    def get_group_invite(self, group_id: str) -> str:
        """Deprecated (groups removed upstream 2021-06-08). ``GET /groups/{group-id}/invite``: the invite link."""
        _warn("get_group_invite")
        data = response_json(self.request("GET", self._group_path(group_id, "invite"), idempotent=True))
        return str(data.get("invite_link", "")) if isinstance(data, dict) else ""

    def delete_group_invite(self, group_id: str) -> None:
        """Deprecated (groups removed upstream 2021-06-08). ``DELETE /groups/{group-id}/invite``."""
        _warn("delete_group_invite")
        self.request("DELETE", self._group_path(group_id, "invite"), idempotent=True)
