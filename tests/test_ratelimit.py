"""Token buckets (in-process and Redis) and dispatch's rate-limit gate."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from django_sinch_whatsapp import services
from django_sinch_whatsapp.models import OutboundMessage
from django_sinch_whatsapp.ratelimit import BotLimits, limits_for
from django_sinch_whatsapp.ratelimit.memory import MemoryTokenBucket

REDIS_URL = "redis://127.0.0.1:6379/14"
REPO = Path(__file__).resolve().parent.parent


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def memory(clock):
    return MemoryTokenBucket(clock=clock)


@pytest.fixture
def redis_bucket():
    pytest.importorskip("redis")
    from django_sinch_whatsapp.ratelimit.redis import RedisTokenBucket

    bucket = RedisTokenBucket(REDIS_URL)
    try:
        bucket.penalty("ping")
    except Exception as err:  # pragma: no cover - CI has Redis
        pytest.skip(f"Redis unreachable: {err}")
    key = f"test-{uuid.uuid4().hex}"
    yield bucket, key
    bucket.reset(key)


def test_memory_burst_then_refill(memory, clock):
    assert memory.acquire("b", 5, rate=10, burst=5) == 0.0  # a full bucket holds the burst
    wait = memory.acquire("b", 5, rate=10, burst=5)
    assert wait == pytest.approx(0.5)  # 5 tokens at 10/s; nothing was taken
    clock.now += 0.3
    assert memory.acquire("b", 5, rate=10, burst=5) == pytest.approx(0.2)
    clock.now += 0.2
    assert memory.acquire("b", 5, rate=10, burst=5) == 0.0
    clock.now += 60  # refill never exceeds the burst
    assert memory.acquire("b", 5, rate=10, burst=5) == 0.0
    assert memory.acquire("b", 1, rate=10, burst=5) > 0


def test_memory_shrinks_after_429_for_a_while(memory, clock):
    memory.acquire("b", 10, rate=10, burst=10)
    memory.penalize("b", 0.5, seconds=30)
    assert memory.penalty("b") == 0.5
    assert memory.acquire("b", 5, rate=10, burst=10) == pytest.approx(1.0)  # 5 tokens at 5/s
    clock.now += 1.0
    assert memory.acquire("b", 5, rate=10, burst=10) == 0.0
    clock.now += 20  # refilled, but only to the shrunken burst (5) while the penalty lasts
    assert memory.acquire("b", 5, rate=10, burst=10) == 0.0
    assert memory.acquire("b", 1, rate=10, burst=10) == pytest.approx(0.2)  # at the shrunken rate, 5/s
    clock.now += 10  # the penalty is over
    assert memory.penalty("b") == 1.0
    assert memory.acquire("b", 10, rate=10, burst=10) == 0.0


def test_memory_counts_rate_and_counters(memory, clock):
    for _ in range(4):
        memory.acquire("b", 5, rate=1000, burst=20)
    clock.now += 1
    assert memory.current_rate("b") == pytest.approx(20 / 5)
    memory.incr("b", "429")
    assert memory.counters("b") == {"429": 1}


def test_redis_burst_refill_and_shrink(redis_bucket):
    bucket, key = redis_bucket
    assert bucket.acquire(key, 5, 10, 5) == 0.0
    wait = bucket.acquire(key, 5, 10, 5)
    assert 0.4 < wait <= 0.5
    time.sleep(wait + 0.02)
    assert bucket.acquire(key, 5, 10, 5) == 0.0
    bucket.penalize(key, 0.5, 1.0)
    assert bucket.penalty(key) == 0.5
    assert bucket.acquire(key, 5, 10, 5) == pytest.approx(1.0, abs=0.05)  # 5 tokens at 5/s
    time.sleep(1.05)
    assert bucket.penalty(key) == 1.0
    bucket.incr(key, "429", 2)
    assert bucket.counters(key)["429"] == 2


def test_redis_is_atomic_under_concurrent_processes(redis_bucket):
    """Four processes race for one bucket (10 burst + 100/s): together they never get more than that."""
    _bucket, key = redis_bucket
    seconds = 2.0
    start_at = time.time() + 3.0  # after every interpreter has started
    env = {**os.environ, "PYTHONPATH": str(REPO), "DJANGO_SETTINGS_MODULE": "tests.settings"}
    command = [sys.executable, str(REPO / "tests" / "ratelimit_worker.py"), REDIS_URL, key, str(seconds), str(start_at)]
    workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    results = [worker.communicate(timeout=60)[0].split() for worker in workers]
    counts = [int(granted) for granted, _first, _last in results]
    total = sum(counts)
    # A loaded machine may start or stop a process late: the bound is over the span they really raced.
    span = max(float(last) for *_, last in results) - min(float(first) for _, first, _ in results if float(first))
    assert total <= 10 + 100 * span + 2, (counts, span)  # +2: clocks of a process and of Redis
    assert total >= 100 * seconds * 0.8, counts  # and they did get the tokens the rate gives
    assert all(counts), counts  # every process took part


def test_limits_for_defaults_and_bot_values(bot, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "RATE_LIMIT_DEFAULTS": {"whatsapp": 80, "conversation": 20}}
    assert limits_for(bot) == BotLimits(rate=80, burst=20)
    bot.rate_limit, bot.rate_burst = 50, 5
    assert limits_for(bot) == BotLimits(rate=50, burst=5)
    assert limits_for(bot).refill == 45.0


def test_burst_must_stay_below_the_rate(bot):
    from django.core.exceptions import ValidationError

    bot.rate_limit, bot.rate_burst = 10, 10
    with pytest.raises(ValidationError) as err:
        bot.clean()
    assert "rate_burst" in err.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_inline_send_goes_in_requests_of_the_burst_and_defers_what_would_wait(sandbox_bot, fresh_sandbox, settings):
    """Inline dispatch never waits longer than RATE_LIMIT_INLINE_MAX_WAIT: the rest is left to the outbox."""
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "RATE_LIMIT_INLINE_MAX_WAIT": 0.0}
    sandbox_bot.rate_limit, sandbox_bot.rate_burst = 10, 4
    sandbox_bot.save()
    numbers = [f"467320{n:05d}" for n in range(10)]
    outcome = services.send_text(sandbox_bot, numbers, "Hi", allow_outside_window=True)
    sizes = [len(e["body"]["to"]) for e in fresh_sandbox.requests_log if e["path"].endswith("/messages")]
    assert sizes == [4]  # the bucket held 4; the next 4 would have waited 4/6 s
    assert outcome.sent == 4 and outcome.pending_batches == 1
    left = OutboundMessage.objects.filter(bot=sandbox_bot, state="accepted")
    assert left.count() == 6 and not left.filter(dispatched_at__isnull=False).exists()  # released, never sent
    # A worker (here: reconciliation) waits for the tokens and sends the rest, once each.
    from datetime import timedelta

    from django_sinch_whatsapp.ratelimit import waiting_allowed
    from django_sinch_whatsapp.services.reconciliation import reconcile

    with waiting_allowed():
        reconcile(older_than=timedelta(seconds=-1))
    sizes = [len(e["body"]["to"]) for e in fresh_sandbox.requests_log if e["path"].endswith("/messages")]
    assert sorted(sizes) == [2, 4, 4, 4] or sum(sizes) == 10, sizes
    assert not OutboundMessage.objects.filter(bot=sandbox_bot, state="accepted").exists()
    assert (
        sorted(n for e in fresh_sandbox.requests_log if e["path"].endswith("/messages") for n in e["body"]["to"])
        == numbers
    )
