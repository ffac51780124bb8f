"""(a) Webhook ingestion over real HTTP under gunicorn, against two floors served by the same app.

Each round posts ``callbacks`` signed 1-status delivery reports for messages that
exist (a fresh set per round, so every report is new work) from ``connections``
concurrent connections, to the webhook and to the two floors, in an order that
rotates from round to round (interleaved A/B). Figures are medians over rounds.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests

from bench.common import gunicorn, make_sent_messages, median


@dataclass
class Signed:
    body: bytes
    headers: dict[str, str]


def report_body(sinch_ids: list[str], state: str = "delivered") -> bytes:
    statuses = [
        {
            "status": "success",
            "state": state,
            "message_id": sinch_id,
            "recipient": f"+{46700000000 + i}",
            "timestamp": "2026-01-01T12:00:00Z",
        }
        for i, sinch_id in enumerate(sinch_ids)
    ]
    return json.dumps({"type": "whatsapp", "statuses": statuses}).encode()


def signed(key: str, body: bytes) -> Signed:
    from django_sinch_whatsapp.callbacks.signature import sign

    nonce = uuid.uuid4().hex
    return Signed(
        body,
        {
            "Content-Type": "application/json",
            "sinch-whatsapp-callback-signature": sign(key, body, nonce),
            "sinch-whatsapp-callback-signature-algorithm": "HMAC_SHA_256",
            "sinch-whatsapp-callback-signature-nonce": nonce,
        },
    )


def blast(url: str, requests_to_send: list[Signed], connections: int) -> tuple[float, int]:
    """Post every request from ``connections`` threads (one keep-alive session each); (seconds, non-2xx)."""
    lock = threading.Lock()
    position = iter(range(len(requests_to_send)))
    failures = [0]

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                return
            item = requests_to_send[index]
            answer = session.post(url, data=item.body, headers=item.headers, timeout=120)
            if answer.status_code >= 300:
                with lock:
                    failures[0] += 1

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, failures[0]


def throughput(
    bot: Any,
    key: str,
    *,
    workers: int,
    threads: int,
    conn_max_age: int,
    callbacks: int,
    rounds: int,
    connections: int,
    targets: tuple[str, ...] = ("webhook", "hmac_insert", "bare_json", "required_writes"),
) -> dict[str, Any]:
    """Callbacks per second of the webhook and its floors, median of ``rounds`` interleaved rounds."""
    webhook_path = bot.callback_path
    paths = {
        "webhook": webhook_path,
        "hmac_insert": "/floor/hmac-insert/",
        "bare_json": "/floor/json/",
        "required_writes": "/floor/required-writes/",
    }
    rates: dict[str, list[float]] = {name: [] for name in targets}
    failures = dict.fromkeys(targets, 0)
    # Reports that moved their message to "delivered": the webhook (and the hand-written writes it is
    # compared with) did the work it answered for.
    applied = dict.fromkeys(("webhook", "required_writes"), 0)
    from django_sinch_whatsapp.models import OutboundMessage

    with gunicorn(workers, threads, conn_max_age) as base:
        # 40 warm-up posts per target (fewer for tiny --quick rounds): imports, connections, caches.
        warm = [signed(key, report_body([f"warm-{i}"])) for i in range(min(40, max(10, callbacks // 2)))]
        for name in targets:
            blast(base + paths[name], warm, connections)
        for round_number in range(rounds):
            shift = round_number % len(targets)
            order = targets[shift:] + targets[:shift]
            for name in order:
                ids = make_sent_messages(bot, callbacks, f"r{uuid.uuid4().hex[:8]}")
                batch = [signed(key, report_body([sinch_id])) for sinch_id in ids]
                seconds, failed = blast(base + paths[name], batch, connections)
                rates[name].append(callbacks / seconds)
                failures[name] += failed
                if name in applied:
                    applied[name] += OutboundMessage.objects.filter(sinch_message_id__in=ids, state="delivered").count()
    result: dict[str, Any] = {name: median(values) for name, values in rates.items()}
    result["rounds"] = rates
    result["failures"] = failures
    result["applied"] = applied["webhook"]
    result["applied_by_required_writes"] = applied["required_writes"]
    result["posted"] = callbacks * rounds
    return result


def per_status(bot: Any, key: str, *, sizes: tuple[int, ...], statuses_total: int) -> dict[int, float]:
    """Seconds per status for callbacks of each size, one connection, 2 sync workers, persistent connections."""
    out: dict[int, float] = {}
    with gunicorn(2, 1, 600) as base:
        url = base + bot.callback_path
        session = requests.Session()
        for warm in range(10):
            item = signed(key, report_body([f"w{warm}"]))
            session.post(url, data=item.body, headers=item.headers, timeout=120)
        for size in sizes:
            count = max(3, statuses_total // size)
            samples = []
            for _ in range(count):
                ids = make_sent_messages(bot, size, f"s{size}-{uuid.uuid4().hex[:8]}")
                item = signed(key, report_body(ids))
                started = time.perf_counter()
                answer = session.post(url, data=item.body, headers=item.headers, timeout=120)
                samples.append(time.perf_counter() - started)
                if answer.status_code >= 300:
                    raise RuntimeError(f"webhook answered {answer.status_code} to a {size}-status callback")
            out[size] = median(samples) / size
    return out
