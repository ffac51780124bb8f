"""One error body for every 4xx/5xx of the API.

Every error answer is a JSON object with an ``error`` object::

    {"error": {"code": "invalid", "message": "to: This field is required.",
               "fields": {"to": ["This field is required."]}}}

``code`` is stable (a client branches on it), ``message`` is for people, ``fields`` (when the input did
not validate) maps each field (a dotted path: ``to.0``, ``message.text``) to its problems. Sinch's
refusals add ``sinch_status``, Sinch's own ``message`` and ``details`` and a ``hint``; a message over a
documented limit adds ``field``, ``limit`` and ``actual``. An answer about a send or a batch of numbers
keeps its outcome (``messages``, ``rejected``...) beside ``error``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..exceptions import (
    MessageValidationError,
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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler (headers such as ``WWW-Authenticate`` and ``Retry-After`` kept), our body."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = api_exception_body(exc)
    return response


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
