"""``manage.py sinch_whatsapp_sandbox`` registers this project's sandbox bots with the sandbox it runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .conftest import TOKEN, wait_for
from .test_example_project import free_port

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parent.parent


def test_command_runs_the_sandbox_and_registers_sandbox_bots(make_bot, tmp_path):
    from django.db import connection

    port = free_port()
    make_bot(base_url_override=f"http://127.0.0.1:{port}/eu1", region="eu")
    make_bot(sinch_bot_id="real-sinch-bot")  # no override: not the sandbox's
    env = {**os.environ, "PYTHONPATH": str(REPO), "DJANGO_SETTINGS_MODULE": "tests.settings"}
    if connection.vendor == "sqlite":
        env["DATABASE_URL"] = f"sqlite:///{connection.settings_dict['NAME']}"
    else:
        data = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{data['USER'] or 'postgres'}@{data['HOST'] or '127.0.0.1'}:{data['PORT'] or 5432}/{data['NAME']}"
        )
    log = tmp_path / "sandbox.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "django",
                "sinch_whatsapp_sandbox",
                "--port",
                str(port),
                "--statuses-per-callback",
                "50",
                "--batch-window",
                "0.2",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_for(lambda: "bot(s) registered" in log.read_text() or process.poll() is not None, timeout=30)
        assert "1 bot(s) registered" in log.read_text(), log.read_text()
        bots = requests.get(f"http://127.0.0.1:{port}/_sandbox/bots", timeout=5).json()
        listed = bots["bots"] if isinstance(bots, dict) else bots
        assert [(b["bot_id"], b["region"]) for b in listed] == [("support-bot", "eu1")]
        assert TOKEN not in str(bots)
        health = requests.get(f"http://127.0.0.1:{port}/_sandbox/", timeout=5).json()
        assert health["callbacks"] == {"step_delay": 0.5, "statuses_per_callback": 50, "batch_window": 0.2}
        answer = requests.post(
            f"http://127.0.0.1:{port}/eu1/whatsapp/v1/support-bot/provision/optin",
            json={"numbers": ["46732001122"]},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=5,
        )
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
