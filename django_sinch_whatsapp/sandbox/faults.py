"""Fault injection: make the next requests fail, stall or lose their connection.

Faults apply to the Sinch API paths only (never to ``/_sandbox``), before
authentication and routing, in the order they were added.
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, dataclass, replace

FAULT_KINDS = ("fail", "slow", "drop")


@dataclass
class Fault:
    kind: str
    remaining: int
    path_contains: str | None = None
    status: int = 503
    retry_after: int | str | None = None
    seconds: float = 0.0
    location: str | None = None

    def matches(self, path: str) -> bool:
        return self.remaining > 0 and (not self.path_contains or self.path_contains in path)


class Faults:
    """Thread-safe queue of pending faults; every method returns at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def fail_next(
        self,
        n: int,
        status: int = 503,
        path_contains: str | None = None,
        retry_after: float | str | None = None,
        location: str | None = None,
    ) -> None:
        """Answer the next ``n`` matching requests with ``status`` and a JSON error body.

        ``retry_after`` (seconds, or an HTTP date string) adds a ``Retry-After`` header. A 3xx status
        (an answer Sinch never documents) adds a ``Location`` header: ``location``, else the request's
        own path, so a client that followed it would be seen in the request log.
        """
        if not 300 <= int(status) <= 599:
            raise ValueError("status must be an HTTP redirect or error status (300-599)")
        if isinstance(retry_after, int | float):
            retry_after = max(0, math.ceil(retry_after))
        fault = Fault("fail", int(n), path_contains, status=int(status), retry_after=retry_after, location=location)
        self._add(fault)

    def slow_next(self, n: int, seconds: float, path_contains: str | None = None) -> None:
        """Sleep ``seconds`` before answering each of the next ``n`` matching requests."""
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        self._add(Fault("slow", int(n), path_contains, seconds=float(seconds)))

    def drop_next(self, n: int, path_contains: str | None = None) -> None:
        """Read the next ``n`` matching requests, then close the connection without an answer."""
        self._add(Fault("drop", int(n), path_contains))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict]:
        with self._lock:
            return [asdict(fault) for fault in self._faults]

    def take(self, path: str) -> tuple[float, Fault | None]:
        """Consume the faults for one request: the delay to sleep, and a fail/drop fault or None."""
        with self._lock:
            delay = 0.0
            slow = next((f for f in self._faults if f.kind == "slow" and f.matches(path)), None)
            if slow is not None:
                slow.remaining -= 1
                delay = slow.seconds
            terminal = next((f for f in self._faults if f.kind != "slow" and f.matches(path)), None)
            taken = None
            if terminal is not None:
                terminal.remaining -= 1
                taken = replace(terminal)
            self._faults = [f for f in self._faults if f.remaining > 0]
            return delay, taken

    def _add(self, fault: Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._faults.append(fault)
