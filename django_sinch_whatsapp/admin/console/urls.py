"""Which console pages each model admin has, as URL patterns placed before the admin's own."""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path


def _pages(model_name: str) -> list[tuple[str, str, Callable[..., HttpResponse]]]:
    from .dashboard import bot_dashboard_view, overall_dashboard_view
    from .inbox import contact_inbox_view
    from .reply import inbound_reply_view
    from .retry import retry_view
    from .send import bot_send_view

    pages: dict[str, list[tuple[str, str, Callable[..., HttpResponse]]]] = {
        "bot": [
            ("dashboard/", "overall_dashboard", overall_dashboard_view),
            ("<path:object_id>/send/", "send", bot_send_view),
            ("<path:object_id>/dashboard/", "dashboard", bot_dashboard_view),
        ],
        "contact": [("<path:object_id>/inbox/", "inbox", contact_inbox_view)],
        "inboundmessage": [("<path:object_id>/reply/", "reply", inbound_reply_view)],
        "outboundmessage": [("<path:object_id>/retry/", "retry", retry_view)],
    }
    return pages.get(model_name, [])


def console_urls(model_admin: Any) -> list[URLPattern]:
    """The console pages of ``model_admin``'s model, each behind the admin site's login and CSRF checks."""
    opts = model_admin.model._meta
    patterns = []
    for route, page, view in _pages(opts.model_name):

        def bound(request: HttpRequest, *args: Any, _view: Any = view, **kwargs: Any) -> HttpResponse:
            return _view(model_admin, request, *args, **kwargs)

        wrapped = model_admin.admin_site.admin_view(update_wrapper(bound, view))
        patterns.append(path(route, wrapped, name=f"{opts.app_label}_{opts.model_name}_{page}"))
    return patterns
