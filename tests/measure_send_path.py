"""Measure the send path against its floor, and a bulk send's peak memory (not collected by pytest).

    PYTHONPATH=. python tests/measure_send_path.py latency [rounds]
    PYTHONPATH=. python tests/measure_send_path.py memory 10000 100000

``latency``: median of ``services.send_message`` (one text, a known contact, inline
dispatch) against a floor of a bare ``requests.Session`` POST to the same sandbox
plus one INSERT and one UPDATE through the ORM, interleaved rounds.
``memory``: each size in a fresh subprocess; peak RSS (``ru_maxrss``) of the whole
process, recipients given as a generator. The sandbox runs in its own process so
its request log is not counted. The database is ``DATABASE_URL`` (default: a
temporary SQLite file).
"""

from __future__ import annotations

import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOKEN = "measure-token"


def _free_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def start_sandbox() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    bots = Path(tempfile.mkdtemp()) / "bots.json"
    bots.write_text(json.dumps([{"bot_id": "measure", "token": TOKEN, "region": "us"}]))
    process = subprocess.Popen(
        [sys.executable, "-m", "django_sinch_whatsapp.sandbox", "--port", str(port), "--bots-file", str(bots),
         "--step-delay", "3600"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}/us1"


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    os.environ.setdefault("DATABASE_URL", "sqlite:///" + os.path.join(tempfile.mkdtemp(), "measure.sqlite3"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_bot(base_url: str):
    from django_sinch_whatsapp.models import Bot
    from tests.tenants.models import Organization

    organization = Organization.objects.create(name=f"Measure {time.time()}")
    return Bot.objects.create(
        tenant=organization, name="Measure", sinch_bot_id="measure", bearer_token=TOKEN, base_url_override=base_url
    )


def latency(rounds: int) -> None:
    sandbox, base_url = start_sandbox()
    try:
        setup_django()
        import requests

        from django_sinch_whatsapp import services
        from django_sinch_whatsapp.models import OutboundMessage

        bot = make_bot(base_url)
        message = {"type": "text", "text": "Hello"}
        body = {"to": ["46732001122"], "message": message}
        url = f"{base_url}/whatsapp/v1/measure/messages"
        session = requests.Session()

        def floor() -> None:
            row = OutboundMessage.objects.create(bot=bot, recipient="46732001122", message_type="text", payload=message)
            answer = session.post(url, json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5).json()
            OutboundMessage.objects.filter(pk=row.pk).update(
                sinch_message_id=answer["statuses"][0]["message_id"], state="queued"
            )

        def ours() -> None:
            services.send_message(bot, ["46732001122"], message, allow_outside_window=True)

        for _ in range(20):  # warm up: connections, the contact, caches
            floor()
            ours()
        samples: dict[str, list[float]] = {"floor": [], "ours": []}
        cpu: dict[str, list[float]] = {"floor": [], "ours": []}
        for _ in range(rounds):  # interleaved, so drift hits both alike
            for name, func in (("floor", floor), ("ours", ours)):
                started, started_cpu = time.perf_counter(), time.process_time()
                func()
                samples[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - started_cpu)
        f, o = statistics.median(samples["floor"]), statistics.median(samples["ours"])
        fc, oc = statistics.median(cpu["floor"]), statistics.median(cpu["ours"])
        from django.db import connection

        print(f"database: {connection.vendor}; rounds: {rounds}")
        print(f"floor (POST + INSERT + UPDATE): {f * 1e3:.2f} ms wall, {fc * 1e3:.2f} ms CPU")
        print(f"send_message (one text):        {o * 1e3:.2f} ms wall, {oc * 1e3:.2f} ms CPU")
        print(f"ratio: {o / f:.2f} wall, {oc / fc:.2f} CPU")
    finally:
        sandbox.terminate()


def memory_child(recipients: int, base_url: str) -> None:
    setup_django()
    from django_sinch_whatsapp import services

    bot = make_bot(base_url)
    numbers = (str(46700000000 + i) for i in range(recipients))
    started = time.perf_counter()
    outcome = services.send_message(bot, numbers, {"type": "text", "text": "Hello"}, allow_outside_window=True)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"recipients": recipients, "accepted": outcome.accepted, "sent": outcome.sent,
                      "peak_rss_mb": round(peak_kib / 1024, 1), "seconds": round(elapsed, 1)}))  # fmt: skip


def memory(sizes: list[int]) -> None:
    sandbox, base_url = start_sandbox()
    try:
        results = []
        for size in sizes:
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            if "DATABASE_URL" not in os.environ:
                env["DATABASE_URL"] = "sqlite:///" + os.path.join(tempfile.mkdtemp(), "measure.sqlite3")
            output = subprocess.run(
                [sys.executable, __file__, "memory-child", str(size), base_url],
                cwd=REPO, env=env, check=True, capture_output=True, text=True,
            ).stdout  # fmt: skip
            results.append(json.loads(output.strip().splitlines()[-1]))
            print(results[-1], flush=True)
        if len(results) > 1:
            print(f"peak ratio {results[-1]['peak_rss_mb'] / results[0]['peak_rss_mb']:.2f}")
    finally:
        sandbox.terminate()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "latency":
        latency(int(sys.argv[2]) if len(sys.argv) > 2 else 300)
    elif mode == "memory":
        memory([int(n) for n in sys.argv[2:]])
    elif mode == "memory-child":
        memory_child(int(sys.argv[2]), sys.argv[3])
