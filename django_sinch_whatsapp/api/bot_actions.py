"""Opt-in/out and capability as actions on a bot (``/bots/{id}/opt-in/`` ...)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .. import services
from ..services.provisioning import NumbersOutcome
from .errors import error_body, sinch_error_response
from .schema import (
    NUMBERS_EXAMPLES,
    RETRY_AFTER,
    CapabilityOutcomeSerializer,
    NumbersOutcomeSerializer,
    numbers_responses,
)
from .serializers import NumbersSerializer


def numbers_outcome_body(outcome: NumbersOutcome) -> dict[str, Any]:
    return {
        "done": outcome.done,
        "rejected": [{"number": r.raw, "reason": r.reason} for r in outcome.rejected],
        "failed": [
            {"numbers": f.numbers, "message": f.error.message, "details": f.error.details} for f in outcome.failed
        ],
    }


def numbers_response(outcome: NumbersOutcome, extra: dict[str, Any] | None = None) -> Response:
    body = {**numbers_outcome_body(outcome), **(extra or {})}
    if outcome.failed and not outcome.done:
        return sinch_error_response(outcome.failed[0].error, body)
    if outcome.done or not outcome.rejected:
        return Response(body, status=200)
    # Every number was refused before asking Sinch: an error, in the one error shape, beside the outcome.
    problems = [f"{r.raw}: {r.reason}" for r in outcome.rejected[:20]]
    error = error_body(
        "invalid_numbers", "No number is valid; " + "; ".join(problems[:3]), fields={"numbers": problems}
    )
    return Response({**error, **body}, status=400)


class BotContactActions:
    """Opt-in/out and capability on a bot: ``/bots/{id}/opt-in/`` etc."""

    @extend_schema(
        request=NumbersSerializer,
        responses=numbers_responses(NumbersOutcomeSerializer),
        parameters=[RETRY_AFTER],
        examples=NUMBERS_EXAMPLES,
    )
    @action(detail=True, methods=["post"], url_path="opt-in")
    def opt_in(self, request: Request, pk: Any = None) -> Response:
        bot = self.get_object()  # type: ignore[attr-defined]
        data = _numbers(request)
        return numbers_response(services.opt_in(bot, data, source=f"api:{request.user}"))

    @extend_schema(
        request=NumbersSerializer,
        responses=numbers_responses(NumbersOutcomeSerializer),
        parameters=[RETRY_AFTER],
        examples=NUMBERS_EXAMPLES,
    )
    @action(detail=True, methods=["post"], url_path="opt-out")
    def opt_out(self, request: Request, pk: Any = None) -> Response:
        bot = self.get_object()  # type: ignore[attr-defined]
        return numbers_response(services.opt_out(bot, _numbers(request), source=f"api:{request.user}"))

    @extend_schema(
        request=NumbersSerializer,
        responses=numbers_responses(CapabilityOutcomeSerializer),
        parameters=[RETRY_AFTER],
        examples=NUMBERS_EXAMPLES,
    )
    @action(detail=True, methods=["post"])
    def capability(self, request: Request, pk: Any = None) -> Response:
        bot = self.get_object()  # type: ignore[attr-defined]
        outcome = services.check_capability(bot, _numbers(request))
        return numbers_response(outcome, {"capable": outcome.capable})


def _numbers(request: Request) -> list[str]:
    serializer = NumbersSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return list(serializer.validated_data["numbers"])
