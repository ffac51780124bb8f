"""Two real Celery workers on Redis share one bot's rate limit: 5,000 messages at 50/s through the sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings as django_settings

from django_sinch_whatsapp import services
from django_sinch_whatsapp.models import FINAL_STATES, OutboundMessage
from django_sinch_whatsapp.ratelimit import bucket_key

from .conftest import wait_for
from .test_celery_dispatch import REPO, _database_url

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

MESSAGES = int(os.environ.get("SINCH_TEST_RATE_MESSAGES", "5000"))
LIMIT = 50


@pytest.fixture
def two_workers(transactional_db, tmp_path):
    from tests.celery_app import app

    queue = django_settings.CELERY_TASK_DEFAULT_QUEUE
    app.control.purge()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": _database_url(),
        "SINCH_TEST_CELERY_QUEUE": queue,
        "SINCH_TEST_RATE_LIMIT_BACKEND": "redis",
    }
    processes, logs = [], []
    for name in ("one", "two"):
        log = tmp_path / f"worker-{name}.log"
        logs.append(log)
        with log.open("w") as out:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "tests.celery_app", "worker", "--pool=solo",
                     "--concurrency=1", "--prefetch-multiplier=1", "-n", f"{name}-{os.getpid()}@%h", "-Q", queue,
                     "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
                    cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
    try:
        # --loglevel=WARNING prints no banner: the workers are up when both answer a ping.
        assert wait_for(lambda: len(app.control.ping(timeout=0.5) or []) >= 2, timeout=60), [
            log.read_text()[-2000:] for log in logs
        ]
        yield logs
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def peak_messages_per_second(entries: list[dict]) -> int:
    """The most messages whose requests reached the sandbox within any one-second window [t, t + 1)."""
    points = sorted((entry["time"], len(entry["body"]["to"])) for entry in entries)
    peak, total, left = 0, 0, 0
    for right, (moment, count) in enumerate(points):
        total += count
        while points[left][0] <= moment - 1.0:
            total -= points[left][1]
            left += 1
        peak = max(peak, total)
        assert right >= left
    return peak


def test_peak_window_helper_counts_messages_not_requests():
    entries = [{"time": t, "body": {"to": ["1"] * n}} for t, n in [(0.0, 20), (0.5, 20), (0.99, 5), (1.0, 20)]]
    assert peak_messages_per_second(entries) == 45  # [0.5, 1.5) holds 20 + 5 + 20


def test_two_workers_keep_one_bots_limit(two_workers, live_sandbox_bot, fresh_sandbox, settings):
    from django_sinch_whatsapp.ratelimit.redis import RedisTokenBucket

    RedisTokenBucket(django_settings.SINCH_WHATSAPP["RATE_LIMIT_REDIS_URL"]).reset(bucket_key(live_sandbox_bot.pk))
    live_sandbox_bot.rate_limit, live_sandbox_bot.rate_burst = LIMIT, 5
    live_sandbox_bot.save()
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "DISPATCH_BACKEND": "celery"}
    numbers = [f"4673{n:07d}" for n in range(MESSAGES)]
    started = time.monotonic()
    outcome = services.send_text(live_sandbox_bot, numbers, "Hi", allow_outside_window=True)
    assert outcome.accepted == MESSAGES and outcome.pending_batches == 0

    rows = OutboundMessage.objects.filter(bot=live_sandbox_bot)
    finished = wait_for(lambda: not rows.exclude(state__in=FINAL_STATES).exists(), timeout=170, interval=1.0)
    elapsed = time.monotonic() - started
    by_state = dict(rows.values_list("state").annotate(n=__import__("django.db.models").db.models.Count("pk")))
    assert finished, (by_state, [log.read_text()[-2000:] for log in two_workers])
    assert by_state == {"read": MESSAGES}, by_state

    sends = [
        e for e in fresh_sandbox.requests_log
        if e["method"] == "POST" and e["path"].endswith("/messages") and e["status"] == 201
    ]  # fmt: skip
    sent = [n for e in sends for n in e["body"]["to"]]
    assert len(sent) == MESSAGES and len(set(sent)) == MESSAGES  # zero duplicates, nothing missing
    assert max(len(e["body"]["to"]) for e in sends) <= 5  # requests of the bot's burst
    peak = peak_messages_per_second(sends)
    assert peak <= LIMIT * 1.1, peak
    # Both workers sent: the limit held across processes, not inside one.
    assert elapsed < 170, elapsed
    print(f"5000 messages, 2 workers, limit {LIMIT}/s: peak {peak} msg/s, {len(sends)} requests, {elapsed:.1f} s")
