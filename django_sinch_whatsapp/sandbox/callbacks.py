"""Background delivery of signed callbacks, with retries, in the order they were planned.

A *chain* is a list of steps sent one after another (the five delivery reports
of one recipient); the next step is due ``step_delay`` seconds after the
previous one was delivered or given up. Each step's payload is built when it is
due, so its timestamp is the time of the state change. Failed deliveries
(non-2xx or no answer) are retried after a delay that doubles each time, a
scaled-down version of Sinch's 5 s doubling (whatsapp-callback.md). Every
attempt is recorded.

*Batching* (``statuses_per_callback`` > 1): a callback's ``statuses`` is an
array (whatsapp-callback.md), and Sinch puts several delivery reports in one
callback. Then a delivery report that falls due waits up to ``batch_window``
seconds for others to the same URL (same key), and they go out together, up to
``statuses_per_callback`` in one signed callback; each report's chain goes on
from there. Inbound messages and the Conversation wire's callbacks are never
batched.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from django_sinch_whatsapp.callbacks.signature import (
    ALGORITHM,
    ALGORITHM_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    sign,
)

from .ids import new_nonce

logger = logging.getLogger(__name__)


@dataclass
class CallbackStep:
    """One callback: where it goes, how it is signed, and how to build (and store) its payload."""

    bot_id: str
    kind: str  # "status" or "notification"
    url: str | None
    key: str | None
    encoding: str
    build: Callable[[], dict[str, Any]]
    on_built: Callable[[dict[str, Any]], None] | None = None
    message_id: str = ""
    #: Another signature scheme (the Conversation API's): the body bytes -> the headers to send.
    sign: Callable[[bytes], dict[str, str]] | None = None


@dataclass
class _Job:
    steps: list[CallbackStep]
    index: int
    generation: int
    attempt: int = 0
    payload: dict[str, Any] | None = field(default=None, repr=False)
    prepared: tuple[bytes, dict[str, str]] | None = field(default=None, repr=False)

    @property
    def step(self) -> CallbackStep:
        return self.steps[self.index]


#: Delivery reports waiting to go out together: (url, key, encoding) -> the buffer's token and its jobs.
_BatchKey = tuple[str, str | None, str]


@dataclass
class _Flush:
    """Scheduled end of a batch's wait: send the buffer ``token`` of ``key`` if it is still waiting."""

    key: _BatchKey
    token: int


def signed_headers(body: bytes, key: str | None, encoding: str) -> dict[str, str]:
    """Content type plus, when the bot has a key, the three signature headers over ``body``."""
    headers = {"Content-Type": "application/json"}
    if key:
        nonce = new_nonce()
        headers[SIGNATURE_HEADER] = sign(key, body, nonce, encoding=encoding)
        headers[ALGORITHM_HEADER] = ALGORITHM
        headers[NONCE_HEADER] = nonce
    return headers


class CallbackSender:
    """A scheduler thread plus a small pool of posting threads."""

    def __init__(
        self,
        record: Callable[[dict[str, Any]], None],
        *,
        step_delay: float,
        retries: int = 3,
        retry_delay: float | None = None,
        timeout: float = 5.0,
        workers: int = 8,
        statuses_per_callback: int = 1,
        batch_window: float = 0.05,
    ) -> None:
        if int(statuses_per_callback) < 1:
            raise ValueError("statuses_per_callback must be at least 1")
        if batch_window < 0:
            raise ValueError("batch_window must not be negative")
        self.record = record
        self.statuses_per_callback = int(statuses_per_callback)
        self.batch_window = float(batch_window)
        self.step_delay = step_delay
        self.retries = retries
        self.retry_delay = retry_delay if retry_delay is not None else max(step_delay, 0.01)
        self.timeout = timeout
        self.workers = workers
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Job | _Flush]] = []
        self._buffers: dict[_BatchKey, tuple[int, list[_Job]]] = {}
        self._sequence = itertools.count()
        self._pending = 0
        self._posting = 0  # posts under way: clear() and stop() wait for them
        self._generation = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()

    # lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping = False
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="sandbox-callback")
        self._thread = threading.Thread(target=self._run, name="sandbox-callback-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._wait_for_posts()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def clear(self) -> None:
        """Forget every planned callback and wait for the posts already under way (neither retried nor
        recorded), so none of them reaches a receiver after this returns."""
        with self._cond:
            self._generation += 1
            self._pending -= sum(1 for _, _, item in self._heap if isinstance(item, _Job))
            self._pending -= sum(len(jobs) for _, jobs in self._buffers.values())
            self._heap.clear()
            self._buffers.clear()
            self._cond.notify_all()
        self._wait_for_posts()

    def _wait_for_posts(self) -> None:
        deadline = time.monotonic() + self.timeout + 1
        with self._cond:
            while self._posting > 0 and time.monotonic() < deadline:
                self._cond.wait(max(deadline - time.monotonic(), 0.001))

    # scheduling -----------------------------------------------------------------------------------------
    def submit(self, steps: list[CallbackStep], delay: float = 0.0) -> None:
        """Send ``steps`` in order, the first after ``delay`` seconds."""
        if steps:
            with self._cond:
                self._schedule(_Job(steps, 0, self._generation), delay)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every planned callback was delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def _schedule(self, job: _Job, delay: float) -> None:
        # Caller holds self._cond.
        self._pending += 1
        heapq.heappush(self._heap, (time.monotonic() + max(delay, 0.0), next(self._sequence), job))
        self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping:
                    if self._heap:
                        wait = self._heap[0][0] - time.monotonic()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                if self._stopping:
                    return
                _, _, item = heapq.heappop(self._heap)
                ready = self._take_ready(item)
            if not ready:
                continue
            assert self._pool is not None
            try:
                if len(ready) == 1 and self._batch_key(ready[0]) is None:
                    self._pool.submit(self._execute, ready[0])
                else:
                    self._pool.submit(self._execute_batch, ready)
            except RuntimeError:  # pool shut down while stopping
                return

    def _batch_key(self, job: _Job) -> _BatchKey | None:
        """Where a due job may wait for others: delivery reports of the standalone wire, when batching."""
        step = job.step
        if self.statuses_per_callback <= 1 or step.kind != "status" or step.sign is not None or not step.url:
            return None
        return (step.url, step.key, step.encoding)

    def _take_ready(self, item: _Job | _Flush) -> list[_Job]:
        """What goes out now for this due heap item (caller holds self._cond): one job, a full or timed-out
        batch, or nothing (the job waits in its batch; a stale flush)."""
        if isinstance(item, _Flush):
            token, jobs = self._buffers.get(item.key, (None, []))
            if token != item.token:
                return []
            del self._buffers[item.key]
            return jobs
        key = self._batch_key(item)
        if key is None:
            return [item]
        token, jobs = self._buffers.get(key, (next(self._sequence), []))
        if not jobs:
            self._buffers[key] = (token, jobs)
            heapq.heappush(self._heap, (time.monotonic() + self.batch_window, next(self._sequence), _Flush(key, token)))
            self._cond.notify_all()
        jobs.append(item)
        if len(jobs) >= self.statuses_per_callback:
            del self._buffers[key]
            return jobs
        return []

    # delivery -------------------------------------------------------------------------------------------
    def _execute(self, job: _Job) -> None:
        try:
            if job.generation == self._generation:
                self._attempt(job)
        except Exception:  # a bug here must not kill the worker or leave wait_idle hanging
            logger.exception("sandbox callback delivery failed")
        finally:
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()

    def _execute_batch(self, jobs: list[_Job]) -> None:
        try:
            live = [job for job in jobs if job.generation == self._generation]
            if live:
                self._attempt_batch(live)
        except Exception:
            logger.exception("sandbox callback delivery failed")
        finally:
            with self._cond:
                self._pending -= len(jobs)
                self._cond.notify_all()

    @staticmethod
    def _payload(job: _Job) -> dict[str, Any]:
        """The step's payload, built (and stored) once, when it is first due."""
        if job.payload is None:
            step = job.step
            job.payload = step.build()
            if step.on_built is not None:
                step.on_built(job.payload)
        return job.payload

    def _attempt(self, job: _Job) -> None:
        step = job.step
        payload = self._payload(job)
        if job.prepared is None:
            # The exact bytes that are signed are the bytes that are sent.
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            job.prepared = (body, step.sign(body) if step.sign else signed_headers(body, step.key, step.encoding))
        body, headers = job.prepared
        if step.url:
            job.attempt += 1
            status, error = self._post(step.url, body, headers)
            if job.generation != self._generation:
                return
            self.record(self._entry(step, [step.message_id], job.attempt, status, error, payload, body, headers))
            if not self._delivered(status) and job.attempt <= self.retries:
                self._retry(job)
                return
        self._next_step(job)

    def _attempt_batch(self, jobs: list[_Job]) -> None:
        """Several due delivery reports to one URL: one callback whose ``statuses`` holds them all."""
        step = jobs[0].step
        payload = {
            "type": self._payload(jobs[0]).get("type", "whatsapp"),
            "statuses": [status for job in jobs for status in self._payload(job).get("statuses", [])],
        }
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = signed_headers(body, step.key, step.encoding)
        for job in jobs:
            job.attempt += 1
        status, error = self._post(step.url or "", body, headers)
        if jobs[0].generation != self._generation:
            return
        attempt = max(job.attempt for job in jobs)
        self.record(
            self._entry(step, [job.step.message_id for job in jobs], attempt, status, error, payload, body, headers)
        )
        delivered = self._delivered(status)
        for job in jobs:
            if not delivered and job.attempt <= self.retries:
                self._retry(job)  # due again later, batched again with whatever is due then
            else:
                self._next_step(job)

    @staticmethod
    def _delivered(status: int | None) -> bool:
        return status is not None and 200 <= status < 300

    @staticmethod
    def _entry(
        step: CallbackStep,
        message_ids: list[str],
        attempt: int,
        status: int | None,
        error: str | None,
        payload: dict[str, Any],
        body: bytes,
        headers: dict[str, str],
    ) -> dict[str, Any]:
        return {
            "url": step.url,
            "kind": step.kind,
            "bot_id": step.bot_id,
            "message_id": message_ids[0],
            "message_ids": message_ids,
            "attempt": attempt,
            "status": status,
            "error": error,
            "body": payload,
            "raw_body": body.decode("utf-8"),
            "headers": headers,
            "time": time.time(),
        }

    def _retry(self, job: _Job) -> None:
        with self._cond:
            if job.generation == self._generation:
                self._schedule(job, self.retry_delay * 2 ** (job.attempt - 1))

    def _next_step(self, job: _Job) -> None:
        if job.index + 1 < len(job.steps):
            with self._cond:
                if job.generation == self._generation:
                    self._schedule(_Job(job.steps, job.index + 1, job.generation), self.step_delay)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # a local stand-in never goes through a proxy
        with self._cond:
            self._posting += 1
        try:
            response = session.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as err:
            return None, f"{type(err).__name__}: {err}"[:500]
        finally:
            with self._cond:
                self._posting -= 1
                self._cond.notify_all()
        return response.status_code, None
