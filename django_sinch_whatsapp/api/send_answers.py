"""The answer to ``POST /bots/{id}/send/``: from a send's outcome, once, and the same on every repeat.

Once a send's rows are committed the answer is never a 5xx of ours: a
dispatch that could not start or finish here (broker unreachable, database
lost after the request) answers 202 with the rows as they stand
(``accepted``: the outbox dispatches them, or settles them as ``unknown`` when
they may have reached Sinch). Sinch's own refusals keep their mapping
(400/502/503 with Sinch's ``error``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError
from django.db.models import Prefetch
from rest_framework import status
from rest_framework.response import Response

from ..models import StatusEvent
from ..services import idempotency
from ..services.sending import WINDOW_CLOSED_REASON, SendOutcome
from .errors import WINDOW_REASON, error_body, sinch_error_body, sinch_error_status
from .serializers import OutboundMessageSerializer

logger = logging.getLogger("django_sinch_whatsapp.api")

REPLAYED_HEADER = "Idempotent-Replayed"


def answer(outcome: SendOutcome) -> Response:
    """The response for a send this request made, or for a replay whose first answer was lost."""
    record = outcome.idempotency
    if outcome.replayed and record is not None:
        stored = idempotency.stored_response(record)
        if stored is not None:
            response = Response(stored[1], status=stored[0])
            response[REPLAYED_HEADER] = "true"
            return response
    code, body = _build(outcome)
    if record is not None:
        try:
            idempotency.store_response(record, code, body)
        except DatabaseError:
            logger.exception("Could not store the first answer of idempotency key %s", record.pk)
    response = Response(body, status=code)
    if outcome.replayed:
        response[REPLAYED_HEADER] = "true"
    elif code == status.HTTP_503_SERVICE_UNAVAILABLE and outcome.errors:
        response["Retry-After"] = str(int(getattr(outcome.errors[0], "retry_after", None) or 30))
    return response


def _build(outcome: SendOutcome) -> tuple[int, dict[str, Any]]:
    rows = _rows(outcome)
    body: dict[str, Any] = {
        "messages": rows,
        "rejected": [{"to": r.raw, "reason": _api_reason(r.reason)} for r in outcome.rejected],
    }
    if outcome.rejected_count > len(outcome.rejected):
        body["rejected_count"] = outcome.rejected_count
    if outcome.errors:
        error = outcome.errors[0]
        return sinch_error_status(error), {"error": sinch_error_body(error), **body}
    if not rows:
        problems = [f"{r.raw}: {r.reason}" for r in outcome.rejected[:20]]
        message = "No recipient is valid; " + "; ".join(problems[:3])
        return status.HTTP_400_BAD_REQUEST, {
            **error_body("invalid_recipients", message, fields={"to": problems}),
            **body,
        }
    if outcome.pending_batches or (outcome.replayed and any(r["state"] == "accepted" for r in rows)):
        body["dispatch"] = "pending: the messages are recorded and will be dispatched (or settled) by the outbox"
        return status.HTTP_202_ACCEPTED, body
    return status.HTTP_201_CREATED, body


def _api_reason(reason: str) -> str:
    """The service's reasons are for Python callers; the window's names the JSON field here."""
    return WINDOW_REASON if reason == WINDOW_CLOSED_REASON else reason


def _rows(outcome: SendOutcome) -> list[dict[str, Any]]:
    """The send's rows with their history, or, when the database is gone, the rows this request holds."""
    history = Prefetch("status_events", queryset=StatusEvent.objects.order_by("received_at", "id"))
    try:
        rows = list(outcome.queryset.select_related("bot").prefetch_related(history).order_by("recipient"))
    except DatabaseError:
        logger.exception("Could not read back the rows of send %s; answering from memory", outcome.send_id)
        rows = sorted(outcome.kept_rows or [], key=lambda row: row.recipient)
        for row in rows:
            row._prefetched_objects_cache = {"status_events": StatusEvent.objects.none()}  # type: ignore[attr-defined]  # no query
    return list(OutboundMessageSerializer(rows, many=True).data)
