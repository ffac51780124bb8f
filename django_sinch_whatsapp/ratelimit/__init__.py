"""Per-bot send rate limits, shared by every process that sends for a bot.

A bot's limit is *messages per second in any one-second window* (how WhatsApp
counts: per message, not per request). Dispatch enforces it with a token bucket
of ``burst`` tokens refilled at ``rate - burst`` per second, one token per
message, and sends requests of at most ``burst`` recipients: a full bucket spent
at once plus one second of refill is ``rate``, so no one-second window ever holds
more than ``rate`` messages, whatever the request size.

Two backends with one interface (:class:`TokenBucket`): ``"memory"`` (this
process only, the default for inline dispatch) and ``"redis"`` (one Lua script,
shared by every worker), chosen by ``SINCH_WHATSAPP['RATE_LIMIT_BACKEND']``.
A 429 from Sinch shrinks the bot's bucket (rate and burst times
``RATE_LIMIT_PENALTY_FACTOR``) for ``RATE_LIMIT_PENALTY_SECONDS``.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ImproperlyConfigured

from ..conf import app_settings

if TYPE_CHECKING:
    from ..models import Bot

#: whatsapp-message.md: 1 to 20 recipients per request.
MAX_RECIPIENTS_PER_REQUEST = 20


class TokenBucket(Protocol):
    """What both backends do. ``key`` names one bot's bucket."""

    def acquire(self, key: str, tokens: int, rate: float, burst: int) -> float:
        """Take ``tokens`` if the bucket holds them (returns 0.0), else take none and return the seconds to wait."""

    def penalize(self, key: str, factor: float, seconds: float) -> None:
        """Shrink this bucket's rate and burst by ``factor`` for ``seconds`` (after a 429)."""

    def penalty(self, key: str) -> float:
        """The factor in force (1.0: none)."""

    def incr(self, key: str, counter: str, amount: int = 1) -> None:
        """Add to a cheap counter of this bucket (429s, messages taken)."""

    def counters(self, key: str) -> dict[str, int]:
        """The counters of this bucket (e.g. ``"429"``), kept since the backend started (Redis: a day)."""

    def current_rate(self, key: str) -> float:
        """Messages per second taken from this bucket over the last few whole seconds."""


@dataclass(frozen=True)
class BotLimits:
    """A bot's limit as dispatch applies it."""

    rate: int  #: messages in any one-second window
    burst: int  #: recipients per request at most, and the bucket's size

    @property
    def refill(self) -> float:
        return float(self.rate - self.burst)


def default_burst(rate: int) -> int:
    """A quarter of the rate, 1 to 20 (WhatsApp 80/s: full requests of 20, refilled at 60/s)."""
    return max(1, min(MAX_RECIPIENTS_PER_REQUEST, rate // 4))


def limits_for(bot: Bot) -> BotLimits:
    """The bot's own rate and burst, or its transport's default rate (``RATE_LIMIT_DEFAULTS``)."""
    rate = bot.rate_limit
    if not rate:
        defaults = app_settings.RATE_LIMIT_DEFAULTS
        transport = str(getattr(bot, "transport", "") or "whatsapp")
        rate = int(defaults.get(transport, defaults.get("whatsapp", 80)))
    rate = max(2, int(rate))
    burst = int(bot.rate_burst or default_burst(rate))
    return BotLimits(rate=rate, burst=max(1, min(burst, rate - 1)))


def bucket_key(bot_pk: object) -> str:
    return f"bot:{bot_pk}"


_backends: dict[tuple[str, str], TokenBucket] = {}
_backends_lock = threading.Lock()


def get_bucket() -> TokenBucket:
    """The configured backend (one instance per process and configuration)."""
    name = str(app_settings.RATE_LIMIT_BACKEND)
    url = str(app_settings.RATE_LIMIT_REDIS_URL or "")
    with _backends_lock:
        bucket = _backends.get((name, url))
        if bucket is None:
            if name == "memory":
                from .memory import MemoryTokenBucket

                bucket = MemoryTokenBucket()
            elif name == "redis":
                if not url:
                    raise ImproperlyConfigured("SINCH_WHATSAPP['RATE_LIMIT_REDIS_URL'] is needed by the redis backend")
                from .redis import RedisTokenBucket

                bucket = RedisTokenBucket(url)
            else:
                raise ImproperlyConfigured(f"SINCH_WHATSAPP['RATE_LIMIT_BACKEND'] is {name!r}; use 'memory' or 'redis'")
            _backends[(name, url)] = bucket
        return bucket


# --- may this code path wait for tokens? ---------------------------------------------------------------

_may_wait: contextvars.ContextVar[bool] = contextvars.ContextVar("sinch_whatsapp_may_wait", default=False)


@contextlib.contextmanager
def waiting_allowed() -> Iterator[None]:
    """Mark a worker context (Celery task, reconciliation, a command): dispatch may sleep for tokens here.

    Everywhere else (a web request's inline dispatch) a send that would exceed the
    limit waits at most ``RATE_LIMIT_INLINE_MAX_WAIT`` and is otherwise deferred.
    """
    token = _may_wait.set(True)
    try:
        yield
    finally:
        _may_wait.reset(token)


def max_wait() -> float:
    """Seconds dispatch may wait for tokens in this context before it defers the batch."""
    if _may_wait.get():
        return float(app_settings.RATE_LIMIT_MAX_WAIT)
    return float(app_settings.RATE_LIMIT_INLINE_MAX_WAIT)


def clear_buckets() -> None:
    """Forget this process's backends (and with them every in-process bucket): for tests."""
    with _backends_lock:
        _backends.clear()
