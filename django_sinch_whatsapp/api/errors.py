"""Sinch and validation errors as DRF responses that keep Sinch's ``message`` and ``details``."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response

from ..exceptions import (
    MessageValidationError,
    OutsideCustomerCareWindow,
    SinchAPIError,
    SinchBadRequest,
    SinchRequestMayHaveBeenSent,
    SinchUnauthorized,
    SinchUnavailable,
)


def sinch_error_body(err: SinchAPIError) -> dict[str, Any]:
    code = {
        SinchBadRequest: "sinch_bad_request",
        SinchUnauthorized: "sinch_unauthorized",
        SinchRequestMayHaveBeenSent: "sinch_outcome_unknown",
    }.get(type(err))
    if code is None:
        code = "sinch_unavailable" if isinstance(err, SinchUnavailable) else "sinch_error"
    return {
        "code": code,
        "sinch_status": err.status_code,
        "message": err.message,
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
        {
            "error": {
                "code": "invalid_message",
                "field": err.field,
                "message": str(err),
                "limit": err.limit,
                "actual": err.actual,
            }
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


def window_error_response(err: OutsideCustomerCareWindow) -> Response:
    return Response({"error": {"code": "outside_customer_care_window", "message": str(err)}}, status=409)
