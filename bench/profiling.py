"""Where a webhook request or a send spends its time: ``python bench/profiling.py [webhook|send] ...``.

Not a benchmark (no floors, no targets): the tool that explains a missed target.
In-process (Django's test client, so the whole middleware stack but no gunicorn
and no socket), on the PostgreSQL database of ``DATABASE_URL`` (dropped and
re-created). For each case it prints the queries and transactions of one request
(transactions counted by PostgreSQL itself, ``pg_stat_database.xact_commit``), the
median wall time, and the top functions of a cProfile run (cumulative time).
``PROFILE_SORT`` (a pstats key, e.g. ``tottime``) and ``PROFILE_FILTER`` (a regular
expression on file and function names) shape the listing; ``PROFILE_DUMP=<file>`` also
writes the profile for ``pstats`` (``print_callers`` shows who called what).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common


def transactions() -> int:
    """Commits + rollbacks PostgreSQL counted for this database so far (this backend's stats flushed)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def measure(label: str, make: Callable[[], Callable[[], Any]], calls: int, top: int, cpu: bool = False) -> None:
    """Queries, transactions and median time of one call, then a cProfile of ``calls`` calls.

    ``cpu``: time this process's CPU, not the wall clock, so waits on the database and the
    machine's other load drop out (what the Python costs, on a busy machine too)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    func = make()
    func()  # warm
    func = make()
    before = transactions()
    after_probe = transactions()  # the probe itself: two autocommit statements
    probe = after_probe - before
    with CaptureQueriesContext(connection) as captured:
        func()
    xacts = transactions() - after_probe - probe
    statements = [q["sql"].split()[0].upper() for q in captured.captured_queries]
    print(f"\n=== {label}: {len(statements)} queries, {xacts} transaction(s)")
    for query in captured.captured_queries:
        print("   ", query["sql"][:160])
    funcs = [make() for _ in range(calls)]
    samples = []
    clock = time.process_time if cpu else time.perf_counter
    profiler = cProfile.Profile(clock) if cpu else cProfile.Profile()
    for func in funcs:
        started = clock()
        profiler.enable()
        func()
        profiler.disable()
        samples.append(clock() - started)
    samples.sort()
    if os.environ.get("PROFILE_DUMP"):
        profiler.dump_stats(os.environ["PROFILE_DUMP"])
    kind = "CPU of this process" if cpu else "wall"
    print(f"median {samples[len(samples) // 2] * 1e3:.2f} ms ({kind}) over {calls} calls (profiled)")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(
        *([os.environ["PROFILE_FILTER"]] if os.environ.get("PROFILE_FILTER") else []), top
    )
    print(out.getvalue())


def webhook_cases(bot: Any, key: str, sizes: list[int]) -> dict[str, Callable[[], Callable[[], Any]]]:
    from django.test import Client

    from bench.webhook import report_body, signed

    client = Client()
    cases: dict[str, Callable[[], Callable[[], Any]]] = {}

    def poster(path: str, size: int) -> Callable[[], Callable[[], Any]]:
        def make() -> Callable[[], Any]:
            ids = common.make_sent_messages(bot, size, f"p{uuid.uuid4().hex[:8]}")
            item = signed(key, report_body(ids))
            headers = {k: v for k, v in item.headers.items() if k != "Content-Type"}

            def call() -> None:
                answer = client.post(path, data=item.body, content_type="application/json", headers=headers)
                if answer.status_code >= 300:
                    raise RuntimeError(f"{path} answered {answer.status_code}")

            return call

        return make

    for size in sizes:
        cases[f"webhook, {size} status(es)"] = poster(bot.callback_path, size)
    cases["floor hmac_insert, 1 status"] = poster("/floor/hmac-insert/", 1)
    return cases


def send_cases(bot: Any, sandbox: common.Sandbox) -> dict[str, Callable[[], Callable[[], Any]]]:
    from bench.sending import TEXT
    from django_sinch_whatsapp import services

    def make() -> Callable[[], Any]:
        return lambda: services.send_message(bot, ["46732001122"], TEXT, allow_outside_window=True)

    return {"services.send_message, 1 recipient": make}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("webhook", "send"), help="which path to profile")
    parser.add_argument("--sizes", default="1,200", help="statuses per callback (webhook)")
    parser.add_argument("--calls", type=int, default=50, help="profiled calls per case")
    parser.add_argument("--top", type=int, default=30, help="functions shown per profile")
    parser.add_argument("--cpu", action="store_true", help="profile this process's CPU time, not wall time")
    args = parser.parse_args()
    common.recreate_database()
    from django.conf import settings

    sandbox = common.Sandbox()
    try:
        bot = common.bench_bot(sandbox.region_url())
        if args.what == "webhook":
            cases = webhook_cases(bot, settings.BENCH_CALLBACK_KEY, [int(x) for x in args.sizes.split(",")])
        else:
            cases = send_cases(bot, sandbox)
        for label, make in cases.items():
            measure(label, make, args.calls, args.top, cpu=args.cpu)
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
