"""A bounded, throttled record of refused callbacks per bot (never their bodies).

Refusals are counted in this process and written at most once per second per
bot (``INTERVAL``); the write itself is conditional on the row's ``last_at``
being a second old, so many processes together still write about once a
second. A flood of forged callbacks therefore costs one small UPDATE a second,
not one per request. Counts of the last second wait for the next refusal.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from ..models import Bot, CallbackRefusalStats
from .bulk import insert_returning

logger = logging.getLogger("django_sinch_whatsapp.webhook")

INTERVAL = 1.0
REASON_CHARS = CallbackRefusalStats._meta.get_field("last_reason").max_length or 200


@dataclass
class _Pending:
    count: int
    reason: str
    remote_addr: str | None
    at: datetime


_lock = threading.Lock()
_pending: dict[int, _Pending] = {}
_last_write: dict[int, float] = {}


def _ip_or_none(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value or ""))
    except ValueError:
        return None


def record_refusal(bot: Bot, reason: str, remote_addr: str | None) -> None:
    """Count one refused callback for ``bot``; maybe write the record (at most once a second)."""
    now = timezone.now()
    clock = time.monotonic()
    with _lock:
        pending = _pending.get(bot.pk)
        if pending is None:
            pending = _pending[bot.pk] = _Pending(0, "", None, now)
        pending.count += 1
        pending.reason, pending.remote_addr, pending.at = reason[:REASON_CHARS], _ip_or_none(remote_addr), now
        if clock - _last_write.get(bot.pk, float("-inf")) < INTERVAL:
            return
        _last_write[bot.pk] = clock
        del _pending[bot.pk]
    try:
        written = _write(bot.pk, pending)
    except Exception:  # the refusal is answered whatever happens here
        logger.exception("Could not record a refused callback for bot %s", bot.pk)
        written = False
    if not written:
        with _lock:  # keep the count for the next write
            later = _pending.get(bot.pk)
            if later is None:
                _pending[bot.pk] = pending
            else:
                later.count += pending.count


def _write(bot_pk: int, pending: _Pending) -> bool:
    updated = CallbackRefusalStats.objects.filter(
        bot_id=bot_pk, last_at__lte=pending.at - timedelta(seconds=INTERVAL)
    ).update(
        count=F("count") + pending.count,
        last_at=pending.at,
        last_reason=pending.reason,
        last_remote_addr=pending.remote_addr,
    )
    if updated:
        return True
    row = CallbackRefusalStats(
        bot_id=bot_pk,
        count=pending.count,
        first_at=pending.at,
        last_at=pending.at,
        last_reason=pending.reason,
        last_remote_addr=pending.remote_addr,
    )
    # Written when the bot had no record yet; nothing when another process wrote this second.
    return bool(insert_returning([row], returning=["bot"]))


def reset_for_tests() -> None:
    """Forget this process's pending counts and write times."""
    with _lock:
        _pending.clear()
        _last_write.clear()
