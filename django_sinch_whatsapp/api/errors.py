"""One error body for every 4xx/5xx of the API.

Every error answer is a JSON object with an ``error`` object::

    {"error": {"code": "invalid", "message": "to: This field is required.",
               "fields": {"to": ["This field is required."]}}}

``code`` is stable (a client branches on it), ``message`` is for people, ``fields`` (when the input did
not validate) maps each field (a dotted path: ``to.0``, ``message.text``) to its problems. Sinch's
refusals add ``sinch_status``, Sinch's own ``message`` and ``details`` and a ``hint``; a message over a
documented limit adds ``field``, ``limit`` and ``actual``. An answer about a send or a batch of numbers
keeps its outcome (``messages``, ``rejected``...) beside ``error``.

An unexpected crash (any other exception a view raises) answers 500 ``server_error`` in the same shape,
with DEBUG on or off: no traceback and no exception text in the body (either may hold a secret). It is
handled as Django handles a crash: ``got_request_exception`` is sent (error trackers such as Sentry listen
to it), the exception is logged with its traceback on ``django.request`` (which mails ``ADMINS`` in
production), a transaction of ``ATOMIC_REQUESTS`` is rolled back, and ``DEBUG_PROPAGATE_EXCEPTIONS``
still lets it propagate.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest
from django.utils.log import log_response
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from ..exceptions import (
    MessageValidationError,
    MessagingTierExceeded,
    OutsideCustomerCareWindow,
    SinchAPIError,
    SinchBadRequest,
    SinchRequestMayHaveBeenSent,
    SinchUnauthorized,
    SinchUnavailable,
)

#: The ``code`` of an input that did not validate (``fields`` says where).
INVALID = "invalid"


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The one error shape: ``{"error": {"code", "message", ...}}``."""
    return {"error": {"code": code, "message": message, **extra}}


def flatten_fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail as ``{"dotted.path": ["problem", ...]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(flatten_fields(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list) and detail and all(not isinstance(item, (dict, list)) for item in detail):
        return {prefix or "non_field_errors": [str(item) for item in detail]}
    if isinstance(detail, list):
        flat = {}
        for index, value in enumerate(detail):
            if value:  # DRF puts {} for the items of a list that were fine
                flat.update(flatten_fields(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def fields_message(fields: dict[str, list[str]]) -> str:
    """The problems for people, one per field, at most five fields."""
    parts = [f"{name}: {problems[0]}" for name, problems in list(fields.items())[:5] if problems]
    if len(fields) > 5:
        parts.append(f"and {len(fields) - 5} more fields")
    return "; ".join(parts) or "Invalid input."


def invalid_body(detail: Any) -> dict[str, Any]:
    fields = flatten_fields(detail)
    return error_body(INVALID, fields_message(fields), fields=fields)


def api_exception_body(exc: exceptions.APIException) -> dict[str, Any]:
    if isinstance(exc, exceptions.ValidationError):
        return invalid_body(exc.detail)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else getattr(exc, "default_code", "error")
    return error_body(str(code), str(exc.detail))


#: The ``code`` and ``message`` of an unexpected crash (the details are in the server's log, never here).
SERVER_ERROR = "server_error"
SERVER_ERROR_MESSAGE = "The server failed to answer this request. The error was logged; try again later."


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (headers such as ``WWW-Authenticate`` and ``Retry-After`` kept), our body.

    What DRF leaves to Django is answered here too, in the one shape: Django's own 400s
    (``BadRequest``, ``SuspiciousOperation``) and any other exception, a crash (500).
    """
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = api_exception_body(exc)
        return response
    if response is not None:
        return response
    request = _django_request(context)
    if isinstance(exc, (BadRequest, SuspiciousOperation)):
        return _bad_request_response(exc, request)
    return server_error_response(exc, request)


def _django_request(context: dict[str, Any]) -> HttpRequest | None:
    request = context.get("request")
    return getattr(request, "_request", request)  # DRF's Request wraps Django's


def _bad_request_response(exc: Exception, request: HttpRequest | None) -> Response:
    """Django answers these 400 (and logs a SuspiciousOperation on ``django.security.<class>``): so do we."""
    set_rollback()
    response = Response(error_body("bad_request", "Bad request."), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, SuspiciousOperation):
        security_logger = logging.getLogger(f"django.security.{type(exc).__name__}")
        log_response(str(exc), exception=exc, request=request, response=response, level="error", logger=security_logger)
    return response


def server_error_response(exc: Exception, request: HttpRequest | None) -> Response | None:
    """A crash, handled as Django's handler would, answered in the one shape (see the module docstring).

    Call it while ``exc`` is being handled (``sys.exc_info()`` is what the signal's receivers read).
    Returns None under ``DEBUG_PROPAGATE_EXCEPTIONS``: DRF then re-raises ``exc``.
    """
    if settings.DEBUG_PROPAGATE_EXCEPTIONS:
        return None
    set_rollback()
    got_request_exception.send(sender=None, request=request)
    response = Response(error_body(SERVER_ERROR, SERVER_ERROR_MESSAGE), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    # Logged here, with the traceback; Django's handler sees the mark and does not log the answer again.
    log_response(
        "%s: %s",
        "Internal Server Error",
        request.path if request is not None else "",
        response=response,
        request=request,
        exception=exc,
    )
    return response


class OneErrorShapeMixin:
    """For an API view that is not tenant-scoped (the root, the schema and docs pages): the same handler."""

    def get_exception_handler(self) -> Any:
        return exception_handler


def sinch_error_body(err: SinchAPIError) -> dict[str, Any]:
    # By kind, subclasses included (a transport's own 401 is still ``sinch_unauthorized``); most specific first.
    kinds: tuple[tuple[type[SinchAPIError], str], ...] = (
        (SinchRequestMayHaveBeenSent, "sinch_outcome_unknown"),
        (SinchBadRequest, "sinch_bad_request"),
        (SinchUnauthorized, "sinch_unauthorized"),
        (SinchUnavailable, "sinch_unavailable"),
    )
    code = next((name for kind, name in kinds if isinstance(err, kind)), "sinch_error")
    return {
        "code": code,
        "message": err.message,
        "sinch_status": err.status_code,
        "details": err.details,
        "hint": err.hint,
    }


def sinch_error_status(err: SinchAPIError) -> int:
    if isinstance(err, SinchRequestMayHaveBeenSent):
        return status.HTTP_202_ACCEPTED
    if isinstance(err, SinchBadRequest):
        return status.HTTP_400_BAD_REQUEST
    if isinstance(err, SinchUnavailable):
        return status.HTTP_503_SERVICE_UNAVAILABLE
    return status.HTTP_502_BAD_GATEWAY


def sinch_error_response(err: SinchAPIError, extra: dict[str, Any] | None = None) -> Response:
    body = {"error": sinch_error_body(err), **(extra or {})}
    response = Response(body, status=sinch_error_status(err))
    if isinstance(err, SinchUnavailable) and not isinstance(err, SinchRequestMayHaveBeenSent):
        response["Retry-After"] = str(int(err.retry_after or 30))
    return response


def validation_error_response(err: MessageValidationError) -> Response:
    return Response(
        error_body(
            "invalid_message",
            str(err),
            fields={err.field: [err.problem]},
            field=err.field,
            limit=err.limit,
            actual=err.actual,
        ),
        status=status.HTTP_400_BAD_REQUEST,
    )


#: Why a recipient outside its 24-hour window was refused, in the API's words (the JSON field, not Python's).
WINDOW_REASON = (
    "the 24-hour customer care window is closed (no message from this contact in 24 hours): "
    'send a template, or set "allow_outside_window": true to send anyway'
)


def window_error_response(err: OutsideCustomerCareWindow) -> Response:
    """Every recipient was outside its window: the same ``rejected`` entries a partly sent request lists."""
    more = err.count - len(err.numbers)
    numbers = ", ".join(err.numbers) + (f" and {more} more" if more > 0 else "")
    message = f"{numbers}: {WINDOW_REASON}" if numbers else WINDOW_REASON
    body = error_body("outside_customer_care_window", message, fields={"allow_outside_window": [WINDOW_REASON]})
    body["messages"] = []
    body["rejected"] = [{"to": number, "reason": WINDOW_REASON} for number in err.numbers]
    if more > 0:
        body["rejected_count"] = err.count
    return Response(body, status=status.HTTP_409_CONFLICT)


def tier_error_response(err: MessagingTierExceeded, **extra: Any) -> Response:
    """409: a template send or campaign that does not fit the bot's messaging tier; nothing was sent."""
    left = max(err.tier - err.used, 0)
    message = (
        f"messaging tier {err.tier:,} unique users per 24 hours: {err.used:,} used, {err.requested:,} requested, "
        f'{left:,} left; nothing was sent. Set "over_tier": "defer" to send what fits now and schedule the rest'
    )
    body = error_body(
        "messaging_tier_exceeded",
        message,
        fields={"over_tier": [message]},
        tier=err.tier,
        used=err.used,
        requested=err.requested,
        left=left,
        **extra,
    )
    return Response(body, status=status.HTTP_409_CONFLICT)
