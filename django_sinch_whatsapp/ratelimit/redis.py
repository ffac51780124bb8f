"""The Redis token bucket, shared by every worker: one Lua script per decision, so it is atomic.

The script reads Redis's own clock (``TIME``), so workers on machines whose
clocks differ still share one bucket correctly.
"""

from __future__ import annotations

from typing import Any

import redis as redis_lib

from .memory import RATE_WINDOW_SECONDS

_PREFIX = "sinch_whatsapp:ratelimit:"

# KEYS: bucket hash, penalty key, per-second taken counter prefix.
# ARGV: tokens requested, refill rate per second, burst.
# Returns the seconds to wait as a string ("0" when the tokens were taken).
_ACQUIRE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local requested = tonumber(ARGV[1])
local factor = tonumber(redis.call('GET', KEYS[2]) or '1')
local rate = math.max(tonumber(ARGV[2]) * factor, 0.001)
local capacity = math.max(tonumber(ARGV[3]) * factor, requested)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local held = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
held = math.min(capacity, held + math.max(0, now - at) * rate)
local wait = 0
if held >= requested then
  held = held - requested
  local second = KEYS[3] .. math.floor(now)
  redis.call('INCRBY', second, requested)
  redis.call('EXPIRE', second, 30)
else
  wait = (requested - held) / rate
end
-- tostring() keeps 14 digits: "at" (about 1.7e9 s) would lose its sub-millisecond part and every
-- call would refill a little too much. Six decimals keep the microseconds TIME gave us.
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', held), 'at', string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""

# KEYS: bucket hash, penalty key. ARGV: factor, seconds.
_PENALIZE = """
local factor = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[2]) or '1')
redis.call('SET', KEYS[2], tostring(math.min(factor, current)), 'PX', math.floor(tonumber(ARGV[2]) * 1000))
local held = tonumber(redis.call('HGET', KEYS[1], 'tokens') or '0')
redis.call('HSET', KEYS[1], 'tokens', tostring(held * factor))
return 1
"""


class RedisTokenBucket:
    """Token buckets in Redis at ``url``; one connection pool per process."""

    def __init__(self, url: str) -> None:
        self._redis: Any = redis_lib.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._penalize = self._redis.register_script(_PENALIZE)

    def __repr__(self) -> str:
        return "<RedisTokenBucket>"  # the URL may carry a password

    @staticmethod
    def _keys(key: str) -> list[str]:
        base = _PREFIX + key
        return [base, base + ":penalty", base + ":taken:"]

    def acquire(self, key: str, tokens: int, rate: float, burst: int) -> float:
        return float(self._acquire(keys=self._keys(key), args=[tokens, rate, burst]))

    def penalize(self, key: str, factor: float, seconds: float) -> None:
        self._penalize(keys=self._keys(key)[:2], args=[factor, seconds])

    def penalty(self, key: str) -> float:
        value = self._redis.get(self._keys(key)[1])
        return float(value) if value is not None else 1.0

    def incr(self, key: str, counter: str, amount: int = 1) -> None:
        name = _PREFIX + key + ":counters"
        pipe = self._redis.pipeline()
        pipe.hincrby(name, counter, amount)
        pipe.expire(name, 86400)
        pipe.execute()

    def counters(self, key: str) -> dict[str, int]:
        raw = self._redis.hgetall(_PREFIX + key + ":counters")
        return {k.decode(): int(v) for k, v in raw.items()}

    def current_rate(self, key: str) -> float:
        seconds, _micro = self._redis.time()
        prefix = self._keys(key)[2]
        values = self._redis.mget([f"{prefix}{second}" for second in range(seconds - RATE_WINDOW_SECONDS, seconds)])
        return sum(int(v) for v in values if v is not None) / RATE_WINDOW_SECONDS

    def reset(self, key: str) -> None:
        """Forget a bucket and its counters (tests, or after changing a bot's limit by hand)."""
        names = [*self._redis.scan_iter(match=_PREFIX + key + ":*"), _PREFIX + key]
        if names:
            self._redis.delete(*names)
