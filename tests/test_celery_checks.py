"""The Celery backend needs the project's Celery app: without it, tasks go to amqp://localhost.

Each case runs in a fresh interpreter, since which Celery apps exist is process state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

CHECK = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.core import checks
from django.test.utils import override_settings
if "--project-app" in sys.argv:
    import tests.celery_app  # what a project's __init__.py does
if "--bare-app" in sys.argv:
    from celery import Celery
    Celery("proj")  # created, never configured
with override_settings(SINCH_WHATSAPP={**settings.SINCH_WHATSAPP, "DISPATCH_BACKEND": "celery"}):
    print(json.dumps(sorted(m.id for m in checks.run_checks() if m.id.startswith("sinch_whatsapp."))))
"""


def run(code: str, *args: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    environment.update(DJANGO_SETTINGS_MODULE="tests.settings", PYTHONPATH=str(REPO), **env)
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "args,expected",
    [
        ((), ["sinch_whatsapp.E020"]),
        (("--bare-app",), ["sinch_whatsapp.E021"]),
        (("--project-app",), []),
    ],
)
def test_celery_backend_needs_a_configured_app(args, expected):
    assert json.loads(run(CHECK, *args)) == expected


PUBLISH_FROM_A_THREAD = """
import sys, threading
import django
django.setup()
import tests.celery_app  # current in this (main) thread only, as Celery does it
from django_sinch_whatsapp.tasks import deliver_batch_task
failures = []
def publish():
    try:
        deliver_batch_task.delay("00000000-0000-0000-0000-000000000000")
    except Exception as err:
        failures.append(repr(err))
thread = threading.Thread(target=publish)
thread.start()
thread.join(30)
print(failures or "ok")
"""


@pytest.mark.celery
def test_a_thread_publishes_to_the_projects_broker_not_amqp_localhost():
    """gunicorn's gthreads serve requests off the main thread, where Celery's ``current_app`` is its fallback."""
    import redis
    from django.conf import settings

    queue = f"sinch-whatsapp-thread-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        assert run(PUBLISH_FROM_A_THREAD, SINCH_TEST_CELERY_QUEUE=queue) == "ok"
        assert client.llen(queue) == 1
        body = json.loads(client.lindex(queue, 0))
        assert body["headers"]["task"] == "django_sinch_whatsapp.deliver_batch"
    finally:
        client.delete(queue)
