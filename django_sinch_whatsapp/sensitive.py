"""What Django's error reports must not show: the bot secrets people type in.

Django's reports (the error email to ``ADMINS``, the HTML 500 page) list a
request's POST data and the local variables of every frame. A view that
receives a bot's secrets marks them with :func:`mark_sensitive_post_parameters`
(the POST values become stars) and is wrapped in ``sensitive_variables()``
(the locals of it and of every frame it calls become stars). The client keeps
the token in values whose ``repr`` is redacted (see :mod:`.client.session`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

#: The form and API fields that carry a bot's secrets.
BOT_SECRET_FIELDS = ("bearer_token", "callback_key", "previous_callback_key")


def mark_sensitive_post_parameters(request: Any, names: tuple[str, ...] = BOT_SECRET_FIELDS) -> None:
    """``sensitive_post_parameters`` for a Django request or a DRF request (which wraps one).

    Django's decorator refuses DRF's ``Request``; the report reads the marker
    from the underlying ``HttpRequest``, so that is where it is set.
    """
    http_request = request if isinstance(request, HttpRequest) else getattr(request, "_request", None)
    if not isinstance(http_request, HttpRequest):
        raise TypeError(f"not a request: {type(request).__name__}")
    already = getattr(http_request, "sensitive_post_parameters", [])
    if already == "__ALL__":
        return
    http_request.sensitive_post_parameters = sorted({*already, *names})  # type: ignore[attr-defined]
