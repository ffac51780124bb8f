"""What every benchmark shares: the bench database, a sandbox in its own process, the bench bot.

Import ``bench.common`` before Django: it points ``DJANGO_SETTINGS_MODULE`` at
``bench.settings`` and the worktree onto ``sys.path``.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/h5bench")

TOKEN = "bench-token-0123456789"
BOT_ID = "bench-bot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def recreate_database() -> None:
    """Drop and create the bench database (its name from DATABASE_URL), then migrate."""
    import psycopg

    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    if not url.scheme.startswith("postgres"):
        raise SystemExit("The benchmarks run on PostgreSQL: set DATABASE_URL=postgres://...")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from bench.floors import CREATE_RAW_TABLE

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(CREATE_RAW_TABLE)


def setup_django() -> None:
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


class Sandbox:
    """The Sinch sandbox in a process of its own, so its work never shares our GIL or our RSS."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "django_sinch_whatsapp.sandbox", "--port", str(self.port), "--step-delay", "86400"],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        self.base = f"http://127.0.0.1:{self.port}"
        self.register()

    def region_url(self) -> str:
        return f"{self.base}/us1"

    def register(self) -> None:
        import requests

        requests.post(
            f"{self.base}/_sandbox/bots", json={"bot_id": BOT_ID, "token": TOKEN, "region": "us"}, timeout=10
        ).raise_for_status()

    def reset(self) -> None:
        import requests

        requests.post(f"{self.base}/_sandbox/reset", json={}, timeout=30).raise_for_status()
        self.register()

    def count(self, method: str, path_suffix: str) -> int:
        import requests

        answer = requests.get(
            f"{self.base}/_sandbox/requests", params={"method": method, "path_suffix": path_suffix}, timeout=60
        )
        answer.raise_for_status()
        return int(answer.json()["count"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def bench_bot(sandbox_url: str) -> Any:
    """The one bench bot (created once per database), pointing at the sandbox."""
    from django.conf import settings

    from django_sinch_whatsapp.models import Bot
    from tests.tenants.models import Organization

    bot = Bot.objects.filter(sinch_bot_id=BOT_ID).first()
    if bot is None:
        tenant = Organization.objects.create(name="Bench")
        bot = Bot.objects.create(
            tenant=tenant,
            name="Bench",
            sinch_bot_id=BOT_ID,
            bearer_token=TOKEN,
            callback_key=settings.BENCH_CALLBACK_KEY,
            region="us",
            base_url_override=sandbox_url,
        )
    elif bot.base_url_override != sandbox_url:
        bot.base_url_override = sandbox_url
        bot.bearer_token = TOKEN  # moving a bot to another host needs its token again
        bot.save()
    return bot


def make_sent_messages(bot: Any, count: int, prefix: str) -> list[str]:
    """``count`` outbound rows as a send leaves them (state queued, a Sinch id); returns the ids."""
    from django_sinch_whatsapp.models import OutboundMessage

    ids = [f"{prefix}-{i:07d}" for i in range(count)]
    batch = uuid.uuid4()
    for start in range(0, count, 5000):
        OutboundMessage.objects.bulk_create(
            [
                OutboundMessage(
                    bot=bot,
                    recipient=str(46700000000 + start + i),
                    message_type="text",
                    payload={"type": "text", "text": "Hello"},
                    batch_id=batch,
                    sinch_message_id=sinch_id,
                    state="queued",
                    sinch_status="success",
                )
                for i, sinch_id in enumerate(ids[start : start + 5000])
            ]
        )
    return ids


def median(values: list[float]) -> float:
    return statistics.median(values)


def per_call(func: Callable[[], Any], calls: int, warmup: int = 5) -> list[float]:
    """Seconds of each of ``calls`` calls, after ``warmup`` unmeasured ones."""
    for _ in range(warmup):
        func()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return samples


@contextmanager
def gunicorn(workers: int, threads: int, conn_max_age: int) -> Iterator[str]:
    """Serve bench.wsgi under gunicorn (sync workers, or gthread when threads > 1); yields the base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "bench.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--timeout",
        "120",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "CONN_MAX_AGE": str(conn_max_age)},
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
