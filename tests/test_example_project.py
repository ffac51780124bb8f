"""Command (a) of the README, as a user runs it: the example project's demo, over real HTTP."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .conftest import wait_for

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _installed_package_is_elsewhere(env: dict[str, str]) -> bool:
    """The venv's editable install may point at another checkout (a worktree): then test this one's code."""
    where = subprocess.run(
        [sys.executable, "-c", "import django_sinch_whatsapp as p; print(p.__file__)"],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return not where.startswith(str(REPO))


@pytest.fixture
def demo(tmp_path, request):
    with running_demo(tmp_path, list(getattr(request, "param", ())), free_port()) as started:
        yield started


@contextlib.contextmanager
def running_demo(tmp_path: Path, flags: list[str], port: int):
    sandbox_port = free_port()
    site = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        # Not set: the demo must derive every URL (and the bot's callback URL) from --addrport.
        "SINCH_WHATSAPP_PUBLIC_BASE_URL": "",
        "DEMO_ADMIN_PASSWORD": "demo-pw",
        "DJANGO_SETTINGS_MODULE": "example.settings",
    }
    env.pop("PYTHONPATH", None)  # the example must run from an installed package, as a user has it
    if _installed_package_is_elsewhere(env):
        env["PYTHONPATH"] = str(REPO)
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "example_project/manage.py",
                "demo",
                "--addrport",
                f"127.0.0.1:{port}",
                "--sandbox-port",
                str(sandbox_port),
                *flags,
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:

        def up():
            try:
                return requests.get(f"{site}/admin/login/", timeout=2).status_code == 200
            except requests.ConnectionError:
                return process.poll() is not None

        assert wait_for(up, timeout=60) and process.poll() is None, log.read_text()[-3000:]
        yield site, log
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_demo_sends_a_text_that_reaches_read_with_five_reports(demo):
    site, log = demo
    auth = ("admin", "demo-pw")
    text = log.read_text()
    assert "demo is up" in text and f"{site}/admin/" in text and "login admin / demo-pw" in text
    assert ":8000" not in text, text
    # The demo customer's greeting arrives over the sandbox's signed callback.
    inbound = wait_for(
        lambda: requests.get(f"{site}/api/sinch-whatsapp/inbound/", auth=auth, timeout=5).json()["results"]
    )
    assert inbound and inbound[0]["text"].startswith("Hi!")
    bots = requests.get(f"{site}/api/sinch-whatsapp/bots/", auth=auth, timeout=5).json()["results"]
    response = requests.post(
        f"{site}/api/sinch-whatsapp/bots/{bots[0]['id']}/send/",
        json={"to": ["46732001122"], "text": "Your order ships today."},
        auth=auth,
        timeout=20,
    )
    assert response.status_code == 201, response.text
    message_id = response.json()["messages"][0]["id"]

    def read():
        message = requests.get(f"{site}/api/sinch-whatsapp/messages/{message_id}/", auth=auth, timeout=5).json()
        return message if message["state"] == "read" else None

    message = wait_for(read, timeout=20)
    assert message, log.read_text()[-3000:]
    assert [h["state"] for h in message["history"]] == ["queued", "dispatched", "sent", "delivered", "read"]


@pytest.mark.parametrize("demo", [["--conversation"]], indirect=True)
def test_demo_conversation_sends_a_text_that_reaches_read_over_the_conversation_wire(demo):
    site, log = demo
    auth = ("admin", "demo-pw")
    text = log.read_text()
    assert "demo is up" in text and "Conversation app" in text, text
    # The greeting comes as a signed Conversation ``message`` callback and opens the window.
    inbound = wait_for(
        lambda: requests.get(f"{site}/api/sinch-whatsapp/inbound/", auth=auth, timeout=5).json()["results"]
    )
    assert inbound and inbound[0]["text"].startswith("Hi!")
    [bot] = requests.get(f"{site}/api/sinch-whatsapp/bots/", auth=auth, timeout=5).json()["results"]
    assert bot["transport"] == "conversation" and "key_secret" not in bot
    response = requests.post(
        f"{site}/api/sinch-whatsapp/bots/{bot['id']}/send/",
        json={"to": ["46732001122"], "text": "Your order ships today."},
        auth=auth,
        timeout=20,
    )
    assert response.status_code == 201, response.text
    message_id = response.json()["messages"][0]["id"]

    def read():
        message = requests.get(f"{site}/api/sinch-whatsapp/messages/{message_id}/", auth=auth, timeout=5).json()
        return message if message["state"] == "read" else None

    message = wait_for(read, timeout=20)
    assert message, log.read_text()[-3000:]
    assert [h["state"] for h in message["history"]] == ["queued", "dispatched", "delivered", "read"]


def test_a_second_demo_on_a_taken_port_fails_before_touching_the_first(demo, tmp_path):
    """The second run must not rewrite the first demo's bot (its sandbox URL) nor start anything."""
    site, _log = demo
    auth = ("admin", "demo-pw")
    # Let the first demo settle (its greeting is the last write it makes by itself).
    assert wait_for(lambda: requests.get(f"{site}/api/sinch-whatsapp/inbound/", auth=auth, timeout=5).json()["results"])
    before = requests.get(f"{site}/api/sinch-whatsapp/bots/", auth=auth, timeout=5).json()
    port = site.rsplit(":", 1)[1]
    database = next(tmp_path.glob("demo.sqlite3"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SINCH_WHATSAPP_PUBLIC_BASE_URL": "",
        "DJANGO_SETTINGS_MODULE": "example.settings",
    }
    env.pop("PYTHONPATH", None)
    mtime = database.stat().st_mtime_ns
    second = subprocess.run(
        [sys.executable, "example_project/manage.py", "demo", "--addrport", f"127.0.0.1:{port}", "--sandbox-port", "0"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in second.stderr and "--addrport" in second.stderr
    assert database.stat().st_mtime_ns == mtime
    after = requests.get(f"{site}/api/sinch-whatsapp/bots/", auth=auth, timeout=5).json()
    assert after == before


def _leave_in_time_wait(port: int) -> None:
    """Leave 127.0.0.1:``port`` as a demo that served requests and stopped leaves it: the server's side
    of a connection closed first sits in TIME_WAIT for a minute, and nothing listens."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()
        assert client.recv(1) == b""  # the server's FIN arrived
        client.close()


def test_the_demo_starts_again_on_a_port_an_earlier_demo_just_left(tmp_path):
    port = free_port()
    _leave_in_time_wait(port)
    # What the demo's check did: refused, though nothing listens.
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))
    with running_demo(tmp_path, [], port) as (site, log):
        assert "demo is up" in log.read_text()
        assert requests.get(f"{site}/admin/login/", timeout=5).status_code == 200


def test_every_demo_option_has_help():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "example.settings"}
    env.pop("PYTHONPATH", None)
    shown = subprocess.run(
        [sys.executable, "example_project/manage.py", "help", "demo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for option, words in {
        "--addrport": "listens on",
        "--sandbox-port": "sandbox",
        "--username": "Superuser",
        "--password": "password",
        "--no-server": "runserver",
    }.items():
        assert option in shown and words in shown, (option, shown)
