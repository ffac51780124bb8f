"""The dashboard: how delivery is going, per bot and overall, for a chosen period.

Every figure is an aggregate over the tenant-scoped rows (GROUP BY in the
database), so the page costs the same handful of queries at ten messages as
at ten million: messages by state, by bot and by day; failures by Sinch error;
callbacks by processing state; refused callbacks (a running count per bot,
:class:`...models.CallbackRefusalStats`, not split by period).

Rates: *delivery* is delivered-or-read over the messages Sinch took
(everything but ``accepted``, ``error`` and ``unknown``); *read* is read over
delivered-or-read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from ...models import Bot, CallbackEvent, CallbackRefusalStats, MessageState, OutboundMessage
from ...services.reconciliation import unknown_without_sinch_id
from ..scoping import scope_queryset
from .base import render, scoped_object
from .charts import stacked_bars

#: The periods offered, in days.
PERIODS = (1, 7, 30, 90)
DEFAULT_PERIOD = 7
FAILURE_STATES = (
    MessageState.ERROR,
    MessageState.UNKNOWN,
    MessageState.FAILED,
    MessageState.NO_OPT_IN,
    MessageState.NO_CAPABILITY,
)
NOT_TAKEN_BY_SINCH = (MessageState.ACCEPTED, MessageState.ERROR, MessageState.UNKNOWN)
DELIVERED = (MessageState.DELIVERED, MessageState.READ)
#: Failure groups shown (the largest first).
FAILURES_SHOWN = 10


@dataclass
class Figures:
    total: int
    by_state: list[tuple[str, str, int]]
    taken: int
    delivered: int
    read: int
    delivery_rate: float | None
    read_rate: float | None


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def period_days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", DEFAULT_PERIOD))
    except ValueError:
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


def figures(messages: QuerySet[OutboundMessage]) -> Figures:
    """Counts by state and the two rates: one query."""
    counts = {row["state"]: row["n"] for row in messages.order_by().values("state").annotate(n=Count("id"))}
    labels = dict(MessageState.choices)
    by_state = [(state, str(labels[state]), counts.get(state, 0)) for state in MessageState.values if counts.get(state)]
    total = sum(counts.values())
    taken = total - sum(counts.get(state, 0) for state in NOT_TAKEN_BY_SINCH)
    delivered = sum(counts.get(state, 0) for state in DELIVERED)
    read = counts.get(MessageState.READ, 0)
    return Figures(total, by_state, taken, delivered, read, _rate(delivered, taken), _rate(read, delivered))


def failures(messages: QuerySet[OutboundMessage]) -> list[dict[str, Any]]:
    """The largest groups of failures by state and Sinch's error (status, message, details): one query."""
    rows: list[dict[str, Any]] = list(
        messages.filter(state__in=FAILURE_STATES)
        .order_by()
        .values("state", "error_status_code", "error_message", "state_details")
        .annotate(n=Count("id"))
        .order_by("-n")[:FAILURES_SHOWN]  # type: ignore[arg-type]
    )
    return rows


def by_day(messages: QuerySet[OutboundMessage], start: Any, days: int) -> tuple[list[str], list[tuple[str, list[int]]]]:
    """Per day: delivered or read, other taken by Sinch, failed, waiting: one query."""
    rows = (
        messages.order_by()
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            delivered=Count("id", filter=Q(state__in=DELIVERED)),
            failed=Count("id", filter=Q(state__in=FAILURE_STATES)),
            total=Count("id"),
        )
    )
    found = {row["day"]: row for row in rows}
    first = timezone.localdate(start)
    labels, delivered, failed, other = [], [], [], []
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        row = found.get(day, {"delivered": 0, "failed": 0, "total": 0})
        labels.append(day.strftime("%m-%d"))
        delivered.append(row["delivered"])
        failed.append(row["failed"])
        other.append(row["total"] - row["delivered"] - row["failed"])
    return labels, [("delivered or read", delivered), ("on the way", other), ("failed", failed)]


def callbacks(events: QuerySet[CallbackEvent], refusals: QuerySet[CallbackRefusalStats]) -> dict[str, Any]:
    """Callbacks stored in the period by processing state, and the refused ones: two queries."""
    states = {
        row["processing_state"]: row["n"]
        for row in events.order_by().values("processing_state").annotate(n=Count("id"))
    }
    refused = refusals.aggregate(count=Sum("count"), last=Max("last_at"))
    return {
        "received": sum(states.values()),
        "by_state": sorted(states.items()),
        "refused": refused["count"] or 0,
        "refused_last": refused["last"],
    }


def per_bot(messages: QuerySet[OutboundMessage]) -> list[dict[str, Any]]:
    """One row per bot with messages in the period: one query."""
    rows: list[dict[str, Any]] = list(
        messages.order_by()  # type: ignore[arg-type]
        .values("bot_id", "bot__name")
        .annotate(
            total=Count("id"),
            taken=Count("id", filter=~Q(state__in=NOT_TAKEN_BY_SINCH)),
            delivered=Count("id", filter=Q(state__in=DELIVERED)),
            read=Count("id", filter=Q(state=MessageState.READ)),
            failed=Count("id", filter=Q(state__in=FAILURE_STATES)),
        )
        .order_by("bot__name")
    )
    for row in rows:
        row["delivery_rate"] = _rate(row["delivered"], row["taken"])
        row["read_rate"] = _rate(row["read"], row["delivered"])
    return rows


def _dashboard(model_admin: Any, request: HttpRequest, bot: Bot | None) -> HttpResponse:
    days = period_days(request)
    start = timezone.now() - timedelta(days=days)
    messages = scope_queryset(request, OutboundMessage.objects.all()).filter(created_at__gte=start)
    events = scope_queryset(request, CallbackEvent.objects.all()).filter(received_at__gte=start)
    refusals = scope_queryset(request, CallbackRefusalStats.objects.all())
    if bot is not None:
        messages, events, refusals = messages.filter(bot=bot), events.filter(bot=bot), refusals.filter(bot=bot)
    labels, series = by_day(messages, start, days)
    return render(
        model_admin,
        request,
        "dashboard.html",
        {
            "title": f"Dashboard: {bot.name}" if bot else "Dashboard: all bots",
            "bot": bot,
            "original": bot,
            "days": days,
            "periods": PERIODS,
            "start": start,
            "figures": figures(messages),
            "failures": failures(messages),
            "callbacks": callbacks(events, refusals),
            "bots": per_bot(messages) if bot is None else [],
            "chart": stacked_bars(labels, series),
            # Issue 8: rows only a delivery report can settle (reconciliation cannot look them up), all time.
            "unsettleable": unknown_without_sinch_id(
                scope_queryset(request, OutboundMessage.objects.all()).filter(
                    **({"bot": bot} if bot is not None else {})
                )
            ),
        },
    )


def overall_dashboard_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    return _dashboard(model_admin, request, None)


def bot_dashboard_view(model_admin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    return _dashboard(model_admin, request, scoped_object(model_admin, request, object_id))
