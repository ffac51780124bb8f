"""Opt-in/out, capability and the blacklist as actions on a bot (``/bots/{id}/opt-in/`` ...)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
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
    with_standard_errors,
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
    @action(detail=True, methods=["post"], url_path="opt-in", serializer_class=NumbersSerializer)
    def opt_in(self, request: Request, pk: Any = None) -> Response:
        """Opt the numbers in at Sinch (``POST /provision/optin``), 20 per request; the contacts say so."""
        bot = self.get_object()  # type: ignore[attr-defined]
        data = _numbers(request)
        return numbers_response(services.opt_in(bot, data, source=f"api:{request.user}"))

    @extend_schema(
        request=NumbersSerializer,
        responses=numbers_responses(NumbersOutcomeSerializer),
        parameters=[RETRY_AFTER],
        examples=NUMBERS_EXAMPLES,
    )
    @action(detail=True, methods=["post"], url_path="opt-out", serializer_class=NumbersSerializer)
    def opt_out(self, request: Request, pk: Any = None) -> Response:
        """Opt the numbers out at Sinch (``DELETE /provision/optin``), 20 per request; the contacts say so."""
        bot = self.get_object()  # type: ignore[attr-defined]
        return numbers_response(services.opt_out(bot, _numbers(request), source=f"api:{request.user}"))

    @extend_schema(
        request=NumbersSerializer,
        responses=numbers_responses(CapabilityOutcomeSerializer),
        parameters=[RETRY_AFTER],
        examples=NUMBERS_EXAMPLES,
    )
    @action(detail=True, methods=["post"], serializer_class=NumbersSerializer)
    def capability(self, request: Request, pk: Any = None) -> Response:
        """Ask Sinch which numbers can receive WhatsApp messages (``capable`` maps each number to the answer)."""
        bot = self.get_object()  # type: ignore[attr-defined]
        outcome = services.check_capability(bot, _numbers(request))
        return numbers_response(outcome, {"capable": outcome.capable, "pending": outcome.pending})


def _numbers(request: Request) -> list[str]:
    serializer = NumbersSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return list(serializer.validated_data["numbers"])


class BlacklistSerializer(serializers.Serializer):
    numbers = serializers.ListField(child=serializers.CharField(), help_text="Every blacklisted number (E.164).")


class BotBlacklistActions:
    """``/bots/{id}/blacklist/``: Sinch's blacklist of the bot (numbers that send no inbound callbacks)."""

    @extend_schema(
        methods=["GET"],
        request=None,
        responses=with_standard_errors({200: BlacklistSerializer}, detail=True, body=False),
        parameters=[RETRY_AFTER],
    )
    @extend_schema(
        methods=["POST", "DELETE"],
        request=NumbersSerializer,
        responses=numbers_responses(NumbersOutcomeSerializer),
        parameters=[RETRY_AFTER],
        examples=NUMBERS_EXAMPLES,
    )
    @action(detail=True, methods=["get", "post", "delete"], serializer_class=NumbersSerializer)
    def blacklist(self, request: Request, pk: Any = None) -> Response:
        """Sinch's blacklist of this bot: ``GET`` lists it, ``POST`` adds the numbers, ``DELETE`` removes them."""
        bot = self.get_object()  # type: ignore[attr-defined]
        if request.method == "GET":
            return Response({"numbers": services.list_blacklist(bot)})
        serializer = NumbersSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        numbers = list(serializer.validated_data["numbers"])
        change = services.blacklist_add if request.method == "POST" else services.blacklist_remove
        return numbers_response(change(bot, numbers))
