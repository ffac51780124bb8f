"""DISPATCH_BACKEND = "celery": a real Celery worker process on Redis sends the recorded rows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from django_sinch_whatsapp import services
from django_sinch_whatsapp.models import OutboundMessage

from .conftest import wait_for

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    """The URL of the test database this process uses, for the worker process."""
    data = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{data['NAME']}"
    user = data.get("USER") or "postgres"
    password = f":{data['PASSWORD']}" if data.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{data.get('HOST') or '127.0.0.1'}:{data.get('PORT') or 5432}/{data['NAME']}"


class Worker:
    """One real ``celery worker`` (prefetch 1) on this run's queue, in a process group of its own."""

    def __init__(
        self,
        log: Path,
        pool: str = "solo",
        extra_env: dict[str, str] | None = None,
        name: str = "",
        concurrency: int = 1,
    ) -> None:
        self.log = log
        self.pool = pool
        # Two workers on one host need names of their own (Celery warns about a duplicate node name).
        self.name = name or f"{log.stem}-{os.getpid()}"
        self.concurrency = concurrency
        self.queue = django_settings.CELERY_TASK_DEFAULT_QUEUE
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": str(REPO),
            "DATABASE_URL": _database_url(),
            "SINCH_TEST_CELERY_QUEUE": self.queue,
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.offset = 0

    def start(self) -> None:
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        """Start the process without waiting for it (several workers boot side by side)."""
        self.offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tests.celery_app",
                    "worker",
                    f"--pool={self.pool}",
                    f"--concurrency={self.concurrency}",
                    "-n",
                    f"{self.name}@%h",
                    "--prefetch-multiplier=1",
                    "-Q",
                    self.queue,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "--loglevel=INFO",
                ],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so kill() takes the pool children too
            )

    def wait_ready(self, timeout: float = 30) -> None:
        process = self.process
        assert process is not None
        ready = wait_for(lambda: "ready" in self.text(self.offset) or process.poll() is not None, timeout=timeout)
        assert ready and process.poll() is None, self.text()[-3000:]

    def text(self, offset: int = 0) -> str:
        return self.log.read_text()[offset:]

    def kill(self) -> None:
        """SIGKILL to the whole worker (main process and pool): nothing is acknowledged or given back."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    from tests.celery_app import app

    app.control.purge()
    workers: list[Worker] = []

    def start(pool: str = "solo", **extra_env: str) -> Worker:
        worker = Worker(tmp_path / f"worker{len(workers)}.log", pool, extra_env)
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()
    app.control.purge()


@pytest.fixture
def celery_worker_process(start_worker):
    from tests.celery_app import app

    worker = start_worker()
    return app, worker.log


def test_worker_sends_the_recorded_rows_and_reports_come_back(
    celery_worker_process, live_sandbox_bot, fresh_sandbox, settings
):
    _app, log = celery_worker_process
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "DISPATCH_BACKEND": "celery"}
    started = time.monotonic()
    outcome = services.send_text(live_sandbox_bot, ["46732001122", "46732001123"], "Hi", allow_outside_window=True)
    # Recorded before any remote call; this process sent nothing itself.
    assert [m.state for m in outcome.messages] == ["accepted", "accepted"]
    assert outcome.sent == 0 and outcome.pending_batches == 0 and not outcome.errors

    def all_read():
        states = set(OutboundMessage.objects.filter(bot=live_sandbox_bot).values_list("state", flat=True))
        return states == {"read"}

    assert wait_for(all_read, timeout=30), (
        list(OutboundMessage.objects.values_list("state", flat=True)),
        log.read_text()[-3000:],
    )
    assert fresh_sandbox.count("POST", "/messages") == 1
    assert "django_sinch_whatsapp.deliver_batch" in log.read_text()
    assert time.monotonic() - started < 30


def test_task_run_twice_sends_once(celery_worker_process, sandbox_bot, fresh_sandbox, settings):
    from django_sinch_whatsapp.tasks import deliver_batch_task

    _app, log = celery_worker_process
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "DISPATCH_BACKEND": "celery"}
    outcome = services.send_text(sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True)
    batch_id = str(outcome.messages[0].batch_id)
    deliver_batch_task.delay(batch_id)  # a duplicate delivery of the same task
    assert wait_for(lambda: OutboundMessage.objects.get().state == "queued", timeout=30)
    # Both task runs finished (the second found nothing left in state "accepted").
    assert wait_for(lambda: log.read_text().count("succeeded") >= 2, timeout=30), log.read_text()[-2000:]
    assert fresh_sandbox.count("POST", "/messages") == 1


def test_beat_task_sends_deferred_batches_once_their_time_has_come(start_worker, sandbox_bot, fresh_sandbox):
    """``django_sinch_whatsapp.dispatch_due`` (celery beat) on a real worker: the tier's deferrals go out."""
    from datetime import timedelta

    from django.utils import timezone

    from django_sinch_whatsapp.client import messages as builders
    from django_sinch_whatsapp.tasks import dispatch_due_task

    sandbox_bot.messaging_tier = 30
    sandbox_bot.save()
    numbers = [str(46700000000 + i) for i in range(50)]
    outcome = services.send_message(
        sandbox_bot, numbers, builders.template("campaign", language="en_US"), over_tier="defer"
    )
    assert outcome.sent == 30 and outcome.deferred == 20
    # The worker's own dispatch backend is Celery: the beat task publishes deliver_batch tasks.
    worker = start_worker("solo", SINCH_TEST_DISPATCH_BACKEND="celery")
    deferred = OutboundMessage.objects.filter(not_before__isnull=False)
    batches = set(deferred.values_list("batch_id", flat=True))  # one per chunk the deferral fell in

    def runs(task: str) -> int:
        return sum(1 for line in worker.text().splitlines() if task in line and "succeeded" in line)

    dispatch_due_task.delay()
    assert wait_for(lambda: runs("dispatch_due") == 1, timeout=30), worker.text()[-2000:]
    assert fresh_sandbox.count("POST", "/messages") == 2 and deferred.count() == 20  # not due: nothing sent

    deferred.update(not_before=timezone.now() - timedelta(seconds=1))  # 24 hours on
    dispatch_due_task.delay()
    later = OutboundMessage.objects.filter(recipient__in=numbers[30:])
    assert wait_for(lambda: set(later.values_list("state", flat=True)) == {"queued"}, timeout=30), worker.text()[-2000:]
    # One deliver_batch task per deferred batch, published by the beat task (this process published none).
    # (Rows reach "queued" inside the task, a moment before the worker logs that it succeeded.)
    assert wait_for(lambda: runs("deliver_batch") == len(batches), timeout=10), worker.text()[-2000:]
    assert runs("dispatch_due") == 2
    sent = Counter(
        _digits(n) for e in fresh_sandbox.requests_log if e["path"].endswith("/messages") for n in e["body"]["to"]
    )
    assert set(sent) == set(numbers) and max(sent.values()) == 1


def _unacked_batches(queue: str) -> list[str]:
    """Batch ids of the tasks Redis holds as delivered but unacknowledged for ``queue`` (kombu's layout)."""
    import base64

    import redis

    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    batches = []
    for raw in client.hgetall("unacked").values():
        message, _exchange, routing_key = json.loads(raw)
        if routing_key == queue:
            args = json.loads(base64.b64decode(message["body"]))[0]
            batches.append(args[0])
    return batches


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def test_sigkilled_worker_loses_nothing_sends_nothing_twice(start_worker, sandbox_bot, fresh_sandbox, settings):
    """2,000 recipients (100 batches); the worker is SIGKILLed inside a Sinch call and restarted.

    With acks_late and prefetch 1 the dead worker held exactly one task, the one it was
    running; every other batch goes out as soon as the new worker starts, without
    reconciliation, and the held task comes back after the visibility timeout and sends
    nothing (its batch was claimed). The claimed batch reached the sandbox once; its rows
    are the only ones in doubt (no Sinch id), which is what the kill costs, not prefetch.
    """
    visibility_timeout = 6.0
    # prefork, as in production: the main process acknowledges while a child runs the task
    # (solo acknowledges only after the task returns, which would hide acks_late).
    worker = start_worker("prefork", SINCH_TEST_VISIBILITY_TIMEOUT=str(visibility_timeout))
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "DISPATCH_BACKEND": "celery"}
    recipients = [str(46700000000 + i) for i in range(2000)]
    services.send_text(sandbox_bot, recipients, "Hi", allow_outside_window=True)
    assert OutboundMessage.objects.count() == 2000
    assert OutboundMessage.objects.values("batch_id").distinct().count() == 100

    # Mid-run: make one Sinch call slow and kill the worker while it waits for the answer.
    assert wait_for(lambda: fresh_sandbox.count("POST", "/messages") >= 30, timeout=60), worker.text()[-3000:]
    fresh_sandbox.faults.slow_next(1, 3.0, path_contains="/messages")
    assert wait_for(lambda: fresh_sandbox.faults.pending() == [], timeout=30)
    time.sleep(0.3)
    worker.kill()
    killed_at = time.monotonic()

    in_doubt = OutboundMessage.objects.filter(
        state="accepted", dispatched_at__isnull=False, sinch_message_id__isnull=True
    )
    doubt_batches = set(in_doubt.values_list("batch_id", flat=True))
    assert len(doubt_batches) == 1 and in_doubt.count() == 20, doubt_batches
    (doubt_batch,) = doubt_batches
    # Prefetch 1 and acks_late: Redis holds exactly the running task, nothing prefetched
    # (acknowledged early, the running task would be gone and the next one held instead).
    assert _unacked_batches(worker.queue) == [str(doubt_batch)]
    sent_before_restart = OutboundMessage.objects.filter(state="queued").count()
    assert sent_before_restart < 2000 - 20

    restarted = start_worker("prefork", SINCH_TEST_VISIBILITY_TIMEOUT=str(visibility_timeout))
    everything_else_sent = wait_for(
        lambda: OutboundMessage.objects.exclude(batch_id=doubt_batch).exclude(state="queued").count() == 0,
        timeout=40,
    )
    assert everything_else_sent, (
        OutboundMessage.objects.exclude(state="queued").values_list("state", "dispatched_at").distinct()[:10],
        restarted.text()[-3000:],
    )
    # The held task is given back after the visibility timeout, runs again and sends nothing.
    expected_runs = 100 - sent_before_restart // 20  # the batches left, the held one among them
    assert wait_for(lambda: restarted.text().count("succeeded") >= expected_runs, timeout=visibility_timeout + 20)
    assert restarted.text().count("succeeded") == expected_runs
    # The worker logs "succeeded" when the child returns; the main process acknowledges just after.
    assert wait_for(lambda: _unacked_batches(worker.queue) == [], timeout=5), _unacked_batches(worker.queue)
    assert time.monotonic() - killed_at < visibility_timeout + 40

    # At the sandbox: every recipient exactly once (the in-doubt batch too), 100 calls in all.
    assert fresh_sandbox.count("POST", "/messages") == 100
    received = Counter(_digits(m["recipient"]) for m in fresh_sandbox.messages)
    assert set(received) == set(recipients)
    assert max(received.values()) == 1
    assert in_doubt.count() == 20  # still unsettled: only a delivery report or a person can settle them
