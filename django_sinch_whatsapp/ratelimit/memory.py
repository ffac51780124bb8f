"""The in-process token bucket: inline dispatch without Redis (one process's sends only)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable

#: Whole seconds ``current_rate`` averages over (the current, partial second excluded).
RATE_WINDOW_SECONDS = 5


class MemoryTokenBucket:
    """Same arithmetic as the Redis script, under one lock; ``clock`` is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._penalties: dict[str, tuple[float, float]] = {}  # key -> (factor, until)
        self._counters: dict[str, dict[str, int]] = defaultdict(dict)
        self._taken: dict[str, dict[int, int]] = defaultdict(dict)  # key -> {whole second: messages}

    def _factor(self, key: str, now: float) -> float:
        factor, until = self._penalties.get(key, (1.0, 0.0))
        if now >= until:
            self._penalties.pop(key, None)
            return 1.0
        return factor

    def acquire(self, key: str, tokens: int, rate: float, burst: int) -> float:
        with self._lock:
            now = self._clock()
            factor = self._factor(key, now)
            rate, capacity = max(rate * factor, 0.001), max(burst * factor, float(tokens))
            held, at = self._state.get(key, (capacity, now))
            held = min(capacity, held + max(0.0, now - at) * rate)
            if held >= tokens:
                self._state[key] = (held - tokens, now)
                seconds = self._taken[key]
                second = int(now)
                seconds[second] = seconds.get(second, 0) + tokens
                for old in [s for s in seconds if s < second - RATE_WINDOW_SECONDS]:
                    del seconds[old]
                return 0.0
            self._state[key] = (held, now)
            return (tokens - held) / rate

    def penalize(self, key: str, factor: float, seconds: float) -> None:
        with self._lock:
            now = self._clock()
            self._penalties[key] = (min(factor, self._factor(key, now)), now + seconds)
            held, at = self._state.get(key, (0.0, now))
            self._state[key] = (held * factor, at)

    def penalty(self, key: str) -> float:
        with self._lock:
            return self._factor(key, self._clock())

    def incr(self, key: str, counter: str, amount: int = 1) -> None:
        with self._lock:
            counters = self._counters[key]
            counters[counter] = counters.get(counter, 0) + amount

    def counters(self, key: str) -> dict[str, int]:
        with self._lock:
            return dict(self._counters.get(key, {}))

    def current_rate(self, key: str) -> float:
        with self._lock:
            second = int(self._clock())
            seconds = self._taken.get(key, {})
            taken = sum(n for s, n in seconds.items() if second - RATE_WINDOW_SECONDS <= s < second)
            return taken / RATE_WINDOW_SECONDS
