"""Whose CPU a webhook request costs: ``python bench/cpu_split.py [--callbacks N] [--rounds R]``.

Not a benchmark (no targets): the tool behind bench/RESULTS.md's "Session 8"
table. On a 2-core machine the webhook benchmark saturates both cores, so
callbacks per second follow the CPU each request costs, summed over every
process that works for it: the load generator (this process, 8 client
threads), the gunicorn workers and PostgreSQL (every ``postgres`` process:
backends, WAL writer, checkpointer). Each round posts the same kind of
signed 1-status reports for existing messages as ``bench/run.py --only
webhook`` to the webhook and to the floors, in rotating order, and reads
each group's CPU from ``/proc`` (Linux only) before and after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

TICK = os.sysconf("SC_CLK_TCK")
TARGETS = {"webhook": None, "hmac_insert": "/floor/hmac-insert/", "required_writes": "/floor/required-writes/"}


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a process that ended between the listing and the reading
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICK


def pids_of(pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found if int(pid) != os.getpid()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--callbacks", type=int, default=2000, help="callbacks per round and target")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (2 workers)")
    args = parser.parse_args()
    common.recreate_database()
    from django.conf import settings

    from bench.webhook import blast, report_body, signed

    sandbox = common.Sandbox()
    try:
        bot = common.bench_bot(sandbox.region_url())
        key = settings.BENCH_CALLBACK_KEY
        paths = {name: path or bot.callback_path for name, path in TARGETS.items()}
        names = list(paths)
        print("| round | target | callbacks/s | client ms | gunicorn workers ms | PostgreSQL ms | total ms |")
        print("|---:|---|---:|---:|---:|---:|---:|")
        with common.gunicorn(2, args.threads, 600) as base:
            warm = [signed(key, report_body([f"warm-{i}"])) for i in range(40)]
            for path in paths.values():
                blast(base + path, warm, args.connections)
            workers = pids_of("bench.wsgi:application")
            for round_number in range(args.rounds):
                shift = round_number % len(names)
                for name in names[shift:] + names[:shift]:
                    ids = common.make_sent_messages(bot, args.callbacks, f"c{uuid.uuid4().hex[:8]}")
                    batch = [signed(key, report_body([sinch_id])) for sinch_id in ids]
                    postgres = pids_of("postgres")
                    before = (time.process_time(), cpu_seconds(workers), cpu_seconds(postgres))
                    seconds, failed = blast(base + paths[name], batch, args.connections)
                    after = (time.process_time(), cpu_seconds(workers), cpu_seconds(postgres))
                    if failed:
                        raise RuntimeError(f"{name}: {failed} non-2xx answers")
                    client, worker, database = (
                        (b - a) * 1e3 / args.callbacks for a, b in zip(before, after, strict=True)
                    )
                    print(
                        f"| {round_number + 1} | {name} | {args.callbacks / seconds:.0f} | {client:.2f} "
                        f"| {worker:.2f} | {database:.2f} | {client + worker + database:.2f} |",
                        flush=True,
                    )
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
