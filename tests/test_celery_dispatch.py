"""DISPATCH_BACKEND = "celery": a real Celery worker process on Redis sends the recorded rows."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    from tests.celery_app import app

    queue = django_settings.CELERY_TASK_DEFAULT_QUEUE
    app.control.purge()
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": _database_url(),
        "SINCH_TEST_CELERY_QUEUE": queue,
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "tests.celery_app",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        ready = wait_for(lambda: "ready" in log.read_text() or process.poll() is not None, timeout=30)
        assert ready and process.poll() is None, log.read_text()[-3000:]
        yield app, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


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
