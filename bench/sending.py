"""(b) The send path against its floor, and (c) bulk against single sends.

Everything goes through ``services.send_message`` with the inline backend, to a
sandbox in its own process. The floor of one send is what any implementation
must do: one POST with a keep-alive ``requests.Session`` to the same sandbox,
one INSERT and one UPDATE through the ORM.
"""

from __future__ import annotations

import resource
import time
import uuid
from typing import Any

import requests

from bench.common import TOKEN, Sandbox, median

TEXT = {"type": "text", "text": "Hello"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def send_path(bot: Any, sandbox: Sandbox, calls: int) -> dict[str, float]:
    """Median wall time and mean CPU of one single-recipient send and of its floor, interleaved."""
    from django_sinch_whatsapp import services
    from django_sinch_whatsapp.models import OutboundMessage

    session = requests.Session()
    url = f"{sandbox.region_url()}/whatsapp/v1/{bot.sinch_bot_id}/messages"

    def floor() -> None:
        row = OutboundMessage.objects.create(
            bot=bot, recipient="46732001122", message_type="text", payload=TEXT, batch_id=uuid.uuid4()
        )
        answer = session.post(
            url,
            json={"to": ["46732001122"], "message": TEXT},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        answer.raise_for_status()
        message_id = answer.json()["statuses"][0]["message_id"]
        OutboundMessage.objects.filter(pk=row.pk).update(sinch_message_id=message_id, state="queued")

    def ours() -> None:
        services.send_message(bot, ["46732001122"], TEXT, allow_outside_window=True)

    for _ in range(10):
        floor()
        ours()
    wall: dict[str, list[float]] = {"send": [], "floor": []}
    cpu: dict[str, float] = {"send": 0.0, "floor": 0.0}
    for index in range(calls):
        pair = (("send", ours), ("floor", floor)) if index % 2 == 0 else (("floor", floor), ("send", ours))
        for name, func in pair:
            started, cpu_started = time.perf_counter(), _cpu()
            func()
            wall[name].append(time.perf_counter() - started)
            cpu[name] += _cpu() - cpu_started
    return {
        "send_ms": median(wall["send"]) * 1e3,
        "floor_ms": median(wall["floor"]) * 1e3,
        "send_cpu_ms": cpu["send"] / calls * 1e3,
        "floor_cpu_ms": cpu["floor"] / calls * 1e3,
    }


def bulk(bot: Any, sandbox: Sandbox, recipients: int, singles: int) -> dict[str, float]:
    """One send to ``recipients`` numbers (requests counted at the sandbox) against ``singles`` single sends."""
    from django_sinch_whatsapp import services

    numbers = [str(46800000000 + i) for i in range(recipients)]
    sandbox.reset()
    started = time.perf_counter()
    services.send_message(bot, numbers, TEXT, allow_outside_window=True)
    bulk_seconds = time.perf_counter() - started
    bulk_requests = sandbox.count("POST", "/messages")
    sandbox.reset()
    started = time.perf_counter()
    for number in numbers[:singles]:
        services.send_message(bot, [number], TEXT, allow_outside_window=True)
    single_seconds = time.perf_counter() - started
    single_requests = sandbox.count("POST", "/messages")
    sandbox.reset()
    per_single = single_seconds / singles
    return {
        "recipients": recipients,
        "bulk_seconds": bulk_seconds,
        "bulk_requests": bulk_requests,
        "singles": singles,
        "single_requests": single_requests,
        "single_seconds_each": per_single,
        "speedup": per_single * recipients / bulk_seconds,
    }
