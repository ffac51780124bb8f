"""Benchmarks as ratios against a floor measured in the same run (see bench/README.rst)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("DATABASE_URL", "sqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.sqlite3"))

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import path  # noqa: E402

from django_sinch_whatsapp import services  # noqa: E402
from django_sinch_whatsapp.callbacks.signature import sign  # noqa: E402
from django_sinch_whatsapp.clients import client_for_bot  # noqa: E402
from django_sinch_whatsapp.models import Bot  # noqa: E402
from django_sinch_whatsapp.sandbox import SandboxServer  # noqa: E402
from tests.tenants.models import Organization  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))


def timed(func, rounds: int) -> float:
    """Median seconds per call over ``rounds`` calls (after a short warm-up)."""
    for _ in range(min(10, rounds)):
        func()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        func()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def floor_view(request):
    json.loads(request.body)
    return JsonResponse({"detail": "ok"})


urlpatterns = [path("floor/", floor_view)]


def main() -> None:
    call_command("migrate", verbosity=0)
    sandbox = SandboxServer(port=0, step_delay=3600).start()  # reports never come during the run
    organization = Organization.objects.create(name="Bench")
    bot = Bot.objects.create(
        tenant=organization,
        name="Bench",
        sinch_bot_id="bench",
        bearer_token="t",
        callback_key="k",
        base_url_override=sandbox.region_url("us"),
    )
    sandbox.register_bot("bench", "t", region="us")
    message = {"type": "text", "text": "Hello"}
    body = {"to": ["46732001122"], "message": message}
    url = f"{sandbox.region_url('us')}/whatsapp/v1/bench/messages"

    bare = requests.Session()
    floor = timed(lambda: bare.post(url, json=body, headers={"Authorization": "Bearer t"}, timeout=5), ROUNDS)
    client = client_for_bot(bot)
    ours = timed(lambda: client.send_message(["46732001122"], message), ROUNDS)
    service = timed(lambda: services.send_message(bot, ["46732001122"], message, allow_outside_window=True), ROUNDS)
    print(f"client send:  {ours * 1e3:.2f} ms vs bare requests {floor * 1e3:.2f} ms -> ratio {ours / floor:.2f}")
    print(f"service send: {service * 1e3:.2f} ms vs client {ours * 1e3:.2f} ms -> ratio {service / ours:.2f}")

    http = Client()
    payload = json.dumps(
        {"type": "whatsapp", "statuses": [{"message_id": "x", "state": "sent", "status": "success"}]}
    ).encode()
    counter = iter(range(10**9))

    def post_signed():
        nonce = f"n{next(counter)}"
        http.post(
            bot.callback_path,
            data=payload,
            content_type="application/json",
            HTTP_SINCH_WHATSAPP_CALLBACK_SIGNATURE=sign("k", payload, nonce),
            HTTP_SINCH_WHATSAPP_CALLBACK_SIGNATURE_ALGORITHM="HMAC_SHA_256",
            HTTP_SINCH_WHATSAPP_CALLBACK_SIGNATURE_NONCE=nonce,
        )

    from django.test.utils import override_settings

    with override_settings(ROOT_URLCONF="bench.urls_floor"):
        webhook_floor = timed(lambda: http.post("/floor/", data=payload, content_type="application/json"), ROUNDS)
    webhook = timed(post_signed, ROUNDS)
    print(
        f"webhook:      {webhook * 1e3:.2f} ms vs minimal JSON view {webhook_floor * 1e3:.2f} ms -> ratio {webhook / webhook_floor:.2f}"
    )

    def peak(recipients: int) -> int:
        numbers = [str(46700000000 + i) for i in range(recipients)]
        tracemalloc.start()
        services.send_message(bot, numbers, message, allow_outside_window=True)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(100), peak(1000)
    print(
        f"bulk memory:  {large / 1000 / 1024:.1f} KiB per recipient at 1,000 vs {small / 100 / 1024:.1f} at 100 "
        f"-> ratio {(large / 1000) / (small / 100):.2f}"
    )
    sandbox.stop()


if __name__ == "__main__":
    main()
