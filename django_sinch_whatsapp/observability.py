"""What happened, cheaply: one structured log line per Sinch call, and per-bot counters.

Log lines go to the ``django_sinch_whatsapp.calls`` logger at INFO with the
fields in ``record.sinch_call`` (for JSON formatters) and in the message
(``key=value``). They never hold a token or a body; phone numbers in paths are
redacted unless ``LOG_REDACT_NUMBERS`` is off.

Counters are aggregates of rows that exist anyway (messages by state, the
refused-callback record) plus two values from the rate-limit backend (429s
seen, current rate): no counter row is written per message.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .conf import app_settings

if TYPE_CHECKING:
    from .models import Bot

logger = logging.getLogger("django_sinch_whatsapp.calls")

_context: contextvars.ContextVar[tuple[Any, Any] | None] = contextvars.ContextVar("sinch_call_context", default=None)

_NUMBER = re.compile(r"^\+?\d{6,}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{16,}$")


@contextlib.contextmanager
def call_context(bot_pk: Any, batch_id: Any = None) -> Iterator[None]:
    """Name the bot (and batch) the Sinch calls made inside belong to: log lines and 429 counts use it."""
    token = _context.set((bot_pk, batch_id))
    try:
        yield
    finally:
        _context.reset(token)


def redact_number(value: str) -> str:
    """``46732001122`` -> ``4673*****22``: enough to tell numbers apart in a log, not to dial one."""
    digits = value.lstrip("+")
    if len(digits) < 6:
        return "*" * len(digits)
    return value[: len(value) - len(digits)] + digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


def path_template(path: str, ids: tuple[str, ...] = ()) -> str:
    """The path with its variable parts named: the bot/project id, numbers, message and other ids."""
    quoted = {quote(i, safe=""): "{bot_id}" for i in ids if i}
    parts = []
    for segment in path.split("/"):
        if segment in quoted:
            parts.append(quoted[segment])
        elif _NUMBER.match(segment):
            parts.append("{number}")
        elif _ID.match(segment):
            parts.append("{id}")
        else:
            parts.append(segment)
    return "/".join(parts)


def record_call(method: str, path: str, status: int | None, seconds: float, *, sinch_bot_id: str = "") -> None:
    """The log line of one Sinch call; a 429 also counts for the bot and shrinks its bucket."""
    bot_pk, batch_id = _context.get() or (None, None)
    if status == 429 and bot_pk is not None:
        _on_429(bot_pk)
    if not app_settings.LOG_CALLS or not logger.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "method": method,
        "path": path_template(path, (sinch_bot_id,)),
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "bot": bot_pk,
        "sinch_bot_id": sinch_bot_id or None,
        "batch": str(batch_id) if batch_id else None,
    }
    if not app_settings.LOG_REDACT_NUMBERS:
        fields["raw_path"] = path
    elif path != fields["path"]:
        fields["raw_path"] = "/".join(redact_number(s) if _NUMBER.match(s) else s for s in path.split("/"))
    message = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
    logger.info("sinch_call %s", message, extra={"sinch_call": fields})


def _on_429(bot_pk: Any) -> None:
    from .ratelimit import bucket_key, get_bucket

    try:
        bucket = get_bucket()
        key = bucket_key(bot_pk)
        bucket.incr(key, "429")
        bucket.penalize(
            key, float(app_settings.RATE_LIMIT_PENALTY_FACTOR), float(app_settings.RATE_LIMIT_PENALTY_SECONDS)
        )
    except Exception:  # counting must never break a send
        logging.getLogger("django_sinch_whatsapp.ratelimit").exception("Could not record a 429 for bot %s", bot_pk)


def bot_counters(bot: Bot) -> dict[str, Any]:
    """Per-bot counters: messages by outcome (all time), refused callbacks, 429s and the current rate.

    Three cheap reads: one GROUP BY over the bot's messages (indexed on bot,
    state), the bot's refused-callback record, and the rate-limit backend.
    """
    from django.db.models import Count

    from .models import CallbackRefusalStats, MessageState, OutboundMessage
    from .ratelimit import bucket_key, get_bucket

    by_state = dict(
        OutboundMessage.objects.filter(bot=bot).values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    # "sent" counts every message Sinch took (any state past its answer), "delivered" those that reached the phone.
    reached = (MessageState.DELIVERED, MessageState.READ, MessageState.DELETED)
    counters: dict[str, Any] = {
        "accepted": by_state.get(MessageState.ACCEPTED, 0),
        "sent": sum(n for s, n in by_state.items() if s not in (MessageState.ACCEPTED, MessageState.ERROR)),
        "delivered": sum(by_state.get(s, 0) for s in reached),
        "read": by_state.get(MessageState.READ, 0),
        "failed": sum(
            by_state.get(s, 0)
            for s in (MessageState.FAILED, MessageState.NO_OPT_IN, MessageState.NO_CAPABILITY, MessageState.ERROR)
        ),
        "unknown": by_state.get(MessageState.UNKNOWN, 0),
        "refused_callbacks": CallbackRefusalStats.objects.filter(bot=bot).values_list("count", flat=True).first() or 0,
    }
    try:
        bucket = get_bucket()
        key = bucket_key(bot.pk)
        counters["rate_limited_429"] = int(bucket.counters(key).get("429", 0))
        counters["current_rate"] = round(bucket.current_rate(key), 1)
        counters["rate_penalty"] = bucket.penalty(key)
    except Exception:  # the backend is down: the database counters still show
        counters.update(rate_limited_429=None, current_rate=None, rate_penalty=None)
    return counters
