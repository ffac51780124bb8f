"""Pieces shared by the console's pages: read-only logs, Sinch errors and JSON shown to people."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.db.models import Model
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ..exceptions import SinchAPIError
from .scoping import TenantScopedAdminMixin, admin_tenant_ids, scope_queryset

__all__ = [
    "BotColumnMixin",
    "ReadOnlyAdminMixin",
    "TenantScopedAdminMixin",
    "admin_tenant_ids",
    "error_block",
    "json_block",
    "scope_queryset",
    "sinch_error_text",
    "truncate",
    "user_may_change",
]


class BotColumnMixin:
    """A short bot column for lists (the bot's ``str`` names its region host too)."""

    @admin.display(description=_("bot"), ordering="bot__name")
    def bot_name(self, obj: Any) -> str:
        return obj.bot.name


class ReadOnlyAdminMixin:
    """Logs are evidence: viewable and deletable, never added or edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def user_may_change(request: HttpRequest, model: type[Model]) -> bool:
    """The model's ``change`` permission, for actions on models whose admin is read-only."""
    opts = model._meta
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")


def sinch_error_text(err: SinchAPIError) -> str:
    """What a person needs, in one line: Sinch's status, message and details, the request, our hint.

    Built from the error's fields (never from a response body), so it holds no secret.
    """
    status = f"HTTP {err.status_code}" if err.status_code else "no HTTP answer"
    text = f"Sinch answered {status}"
    if err.message:
        text += f": {err.message}"
    if err.details:
        text += f"; details: {err.details}"
    where = f"{err.method} {err.path}".strip()
    if where:
        text += f" (to {where})"
    text += "."
    if err.hint:
        text += f" {err.hint}"
    return text


def error_block(error: dict[str, Any] | None) -> SafeString | str:
    """The stored Sinch error of a row (``OutboundMessage.error``) as an HTML block."""
    if not error:
        return "-"
    status = f"HTTP {error['status_code']}" if error.get("status_code") else "no HTTP answer"
    return format_html(
        '<div class="errornote sinch-error">'
        '<strong class="sinch-error-status">{}</strong> <span class="sinch-error-message">{}</span>'
        '<br><span class="sinch-error-details">{}</span>'
        '<br><em class="sinch-error-hint">{}</em></div>',
        status,
        error.get("message") or "(no message)",
        f"Details: {error['details']}" if error.get("details") else "No details.",
        error.get("hint") or "",
    )


def json_block(value: Any) -> SafeString:
    """A JSON value, indented, escaped, in a ``<pre>``."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


def truncate(text: str, length: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"
