"""Dispatch's rate-limit gate: one claimed batch goes out in requests the bot's bucket allows."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..observability import call_context
from . import TokenBucket, bucket_key, get_bucket, limits_for, max_wait

if TYPE_CHECKING:
    from ..dispatch import BatchResult
    from ..models import OutboundMessage

logger = logging.getLogger("django_sinch_whatsapp.ratelimit")


def paced(rows: list[OutboundMessage], send: Callable[[list[OutboundMessage]], BatchResult]) -> BatchResult:
    """Send claimed ``rows`` (one batch, one bot) through ``send`` in requests of at most the bot's burst.

    Each request first takes one token per recipient. Where the tokens would
    take longer than this context may wait (:func:`..ratelimit.max_wait`), the
    rows not yet sent are released to the outbox (reconciliation dispatches them
    later) and ``dispatch_error`` says so: nothing is lost, nothing sent twice.
    """
    from ..dispatch import BatchResult, release

    first = rows[0]
    bot = first.bot
    total = BatchResult(batch_id=first.batch_id, size=len(rows))
    with call_context(bot.pk, first.batch_id):
        if not bot.is_active:
            return send(rows)
        limits = limits_for(bot)
        key = bucket_key(bot.pk)
        for start in range(0, len(rows), limits.burst):
            part = rows[start : start + limits.burst]
            try:
                granted = _wait_for_tokens(get_bucket(), key, len(part), limits.refill, limits.burst)
            except Exception as err:  # the bucket's Redis is unreachable: nothing of these rows was sent
                logger.error(
                    "Rate limit of bot %s unavailable: %s; batch %s left to the outbox", bot.pk, err, first.batch_id
                )
                granted = False
            if not granted:
                release(rows[start:])
                total.dispatch_error = f"rate limit of bot {bot.pk}: {len(rows) - start} message(s) left to the outbox"
                logger.info("Batch %s deferred by the rate limit of bot %s", first.batch_id, bot.pk)
                return total
            result = send(part)
            total.sent += result.sent
            total.error = total.error or result.error
            total.dispatch_error = total.dispatch_error or result.dispatch_error
    return total


def _wait_for_tokens(bucket: TokenBucket, key: str, tokens: int, rate: float, burst: int) -> bool:
    """Take ``tokens``, sleeping between tries while the wait stays within this context's allowance."""
    deadline = time.monotonic() + max_wait()
    while True:
        wait = bucket.acquire(key, tokens, rate, burst)
        if wait <= 0:
            return True
        if time.monotonic() + wait > deadline:
            return False
        time.sleep(wait)
