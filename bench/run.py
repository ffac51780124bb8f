"""Benchmarks against floors measured in the same run: ``python bench/run.py [--quick] [--only ...]``.

Runs on PostgreSQL (``DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/h5bench``;
the database is dropped and re-created), with the Sinch sandbox in its own
process and the webhook under gunicorn. Writes ``bench/RESULTS.md`` (or
``--output``). See bench/README.rst for what each figure means.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

BENCHMARKS = ("webhook", "sizes", "conn", "send", "bulk", "memory", "lists")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of {BENCHMARKS}")
    parser.add_argument("--quick", action="store_true", help="small sizes: the whole run in under 3 minutes")
    parser.add_argument("--callbacks", type=int, help="1-status callbacks per round (default 5000; quick 60)")
    parser.add_argument("--conn-callbacks", type=int, help="callbacks per round for 'conn' (default 2000; quick 30)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds, median taken (default 3; quick 2)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent client connections (default 8)")
    parser.add_argument("--status-sizes", default="1,20,200", help="statuses per callback for 'sizes'")
    parser.add_argument("--statuses", type=int, help="statuses posted per size in 'sizes' (default 2000; quick 100)")
    parser.add_argument("--sends", type=int, help="single sends per side in 'send' (default 300; quick 30)")
    parser.add_argument("--bulk", type=int, help="recipients of the bulk send (default 10000; quick 1000)")
    parser.add_argument("--singles", type=int, help="single sends timed against it (default 1000; quick 50)")
    parser.add_argument("--memory", help="recipients of the two memory runs (default 10000,100000; quick 1000,3000)")
    parser.add_argument("--rows", help="table sizes for 'lists' (default 1000,100000; quick 1000,5000)")
    parser.add_argument("--list-calls", type=int, help="requests per list and size (default 20; quick 5)")
    parser.add_argument("--output", default=str(common.REPO / "bench" / "RESULTS.md"))
    parser.add_argument("--note", default="", help="a sentence for the top of RESULTS.md (what code this is)")
    args = parser.parse_args(argv)
    quick = args.quick
    defaults: dict[str, Any] = {
        "callbacks": 60 if quick else 5000,
        "conn_callbacks": 30 if quick else 2000,
        "rounds": 2 if quick else 3,
        "statuses": 100 if quick else 2000,
        "sends": 30 if quick else 300,
        "bulk": 1000 if quick else 10000,
        "singles": 50 if quick else 1000,
        "memory": "1000,3000" if quick else "10000,100000",
        "rows": "1000,5000" if quick else "1000,100000",
        "list_calls": 5 if quick else 20,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"--only: unknown benchmark(s) {sorted(unknown)}; choose from {BENCHMARKS}")
    return args


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as handle:
            memory = int(handle.readline().split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        memory = 0.0
    import django
    import psycopg
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory:.1f} GiB RAM, {platform.platform()}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {server} (psycopg {psycopg.__version__}), load average at start "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def git_revision() -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(common.REPO), "describe", "--always", "--dirty"], capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def write_results(
    args: argparse.Namespace, argv: list[str] | None, header: str, lines: list[str], started: float, *, final: bool
) -> list[str]:
    """Write ``--output``: the run's header and every section so far (marked partial until the end)."""
    command = "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    top = [
        "# Benchmark results",
        "",
        *([args.note, ""] if args.note else []),
        *([] if final else ["**Partial**: the run was still going (or was interrupted) when this was written.", ""]),
        f"- Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Code: `{git_revision()}`",
        f"- Command: `{command.strip()}` ({time.monotonic() - started:.0f} s)",
        f"- Machine: {header}; at the end {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        "",
    ]
    Path(args.output).write_text("\n".join(top + lines) + "\n")
    return top + lines


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.monotonic()
    common.recreate_database()
    from django.conf import settings

    key = settings.BENCH_CALLBACK_KEY
    sandbox = common.Sandbox()
    lines: list[str] = []
    figures: dict[str, Any] = {}
    header = ""

    def progress(label: str) -> None:
        """Say how far the run is and write what is measured so far: an interrupted run keeps it."""
        print(label, "done", f"{time.monotonic() - started:.0f} s", flush=True)
        write_results(args, argv, header, lines, started, final=False)

    try:
        bot = common.bench_bot(sandbox.region_url())
        header = machine()
        if "lists" in args.only:
            from bench.lists import lists

            sizes = tuple(int(x) for x in args.rows.split(","))
            figures["lists"] = result = lists(bot, sizes, args.list_calls)
            small, large = min(result), max(result)
            lines += [
                "## (e) Lists: admin changelist and API messages list",
                "",
                f"In-process (Django test client, superuser), median of {args.list_calls} requests; "
                "target: latency ratio < 2 with equal query counts.",
                "",
                "| list | rows | queries | median ms | status |",
                "|---|---:|---:|---:|---:|",
            ]
            for name in ("admin", "api"):
                for size in (small, large):
                    queries, seconds, status = result[size][name]
                    lines.append(f"| {name} | {size:,} | {queries} | {seconds * 1e3:.1f} | {status} |")
            for name in ("admin", "api"):
                ratio = result[large][name][1] / result[small][name][1]
                same = result[large][name][0] == result[small][name][0]
                lines.append(
                    f"\n{name}: latency ratio {large:,}/{small:,} rows = **{ratio:.2f}** "
                    f"(target < 2: {verdict(ratio < 2)}); query counts {'equal' if same else 'differ'} "
                    f"({verdict(same)})."
                )
            lines.append("")
            progress("lists")
        if "webhook" in args.only:
            from bench.webhook import throughput

            lines += [
                "## (a) Webhook ingestion under gunicorn",
                "",
                f"{args.callbacks:,} signed 1-status delivery reports for existing messages per round from "
                f"{args.connections} concurrent connections; {args.rounds} interleaved rounds (order rotates), "
                "median callbacks/s. Floors served by the same gunicorn app: `hmac_insert` verifies the HMAC and "
                "INSERTs the raw body; `bare_json` parses the JSON and answers. Persistent connections "
                "(CONN_MAX_AGE=600). Target: webhook >= 0.5x the HMAC+INSERT floor. Not a target, a reference: "
                "`required_writes` is the webhook's writes written by hand for this one shape of callback (the "
                "callback row with its constraints, the history row, the forward-only state move, one round trip, "
                "no models, signals or savepoint; `bench/floors.py`): how far below the webhook the same writes "
                "can go at all.",
                "",
                "| gunicorn | webhook /s | hmac_insert /s | bare_json /s | required_writes /s | webhook / hmac_insert "
                "| webhook / bare_json | webhook / required_writes | required_writes / hmac_insert | non-2xx "
                "| reports applied (webhook; required_writes) |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            ]
            figures["webhook"] = {}
            for label, workers, threads in (("2 sync workers", 2, 1), ("2 workers x 4 gthreads", 2, 4)):
                result = throughput(
                    bot,
                    key,
                    workers=workers,
                    threads=threads,
                    conn_max_age=600,
                    callbacks=args.callbacks,
                    rounds=args.rounds,
                    connections=args.connections,
                )
                figures["webhook"][label] = result
                ratio = result["webhook"] / result["hmac_insert"]
                lines.append(
                    f"| {label} | {result['webhook']:.0f} | {result['hmac_insert']:.0f} | {result['bare_json']:.0f} "
                    f"| {result['required_writes']:.0f} | **{ratio:.2f}** ({verdict(ratio >= 0.5)}) "
                    f"| {result['webhook'] / result['bare_json']:.2f} "
                    f"| {result['webhook'] / result['required_writes']:.2f} "
                    f"| {result['required_writes'] / result['hmac_insert']:.2f} "
                    f"| {sum(result['failures'].values())} | {result['applied']:,}; "
                    f"{result['applied_by_required_writes']:,} of {result['posted']:,} each |"
                )
                progress(label)
            lines += ["", "Every round (callbacks/s):", "", "```"]
            for label, result in figures["webhook"].items():
                lines.append(
                    f"{label}: " + json.dumps({k: [round(v) for v in vs] for k, vs in result["rounds"].items()})
                )
            lines += ["```", ""]
        if "conn" in args.only:
            from bench.webhook import throughput

            lines += [
                "## Database connections: one per request vs persistent",
                "",
                f"The webhook and the HMAC+INSERT floor under 2 sync workers, {args.conn_callbacks:,} callbacks "
                "per round, "
                f"{args.rounds} rounds, CONN_MAX_AGE=0 vs 600 (CONN_HEALTH_CHECKS on).",
                "",
                "| CONN_MAX_AGE | webhook /s | hmac_insert /s |",
                "|---|---:|---:|",
            ]
            figures["conn"] = {}
            for age in (0, 600):
                result = throughput(
                    bot,
                    key,
                    workers=2,
                    threads=1,
                    conn_max_age=age,
                    callbacks=args.conn_callbacks,
                    rounds=args.rounds,
                    connections=args.connections,
                    targets=("webhook", "hmac_insert"),
                )
                figures["conn"][age] = result
                lines.append(f"| {age} | {result['webhook']:.0f} | {result['hmac_insert']:.0f} |")
            gain = figures["conn"][600]["webhook"] / figures["conn"][0]["webhook"]
            lines += ["", f"Persistent connections: webhook x{gain:.2f}.", ""]
            progress("conn")
        if "sizes" in args.only:
            from bench.webhook import per_status

            sizes = tuple(int(x) for x in args.status_sizes.split(","))
            figures["sizes"] = result = per_status(bot, key, sizes=sizes, statuses_total=args.statuses)
            base = result[min(sizes)]
            lines += [
                "## Callbacks of many statuses",
                "",
                f"One connection, 2 sync workers, about {args.statuses:,} statuses per size, median time per "
                "callback divided by its statuses. Target: 200 statuses <= 0.1x per status of a 1-status callback.",
                "",
                "| statuses per callback | ms per callback | ms per status | per status vs 1-status |",
                "|---:|---:|---:|---:|",
            ]
            for size in sizes:
                lines.append(
                    f"| {size} | {result[size] * size * 1e3:.1f} | {result[size] * 1e3:.2f} | **{result[size] / base:.2f}** |"
                )
            if 200 in result:
                lines += [
                    "",
                    f"200 statuses: {result[200] / base:.2f}x per status ({verdict(result[200] / base <= 0.1)}).",
                    "",
                ]
            progress("sizes")
        if "send" in args.only:
            from bench.sending import send_path

            figures["send"] = result = send_path(bot, sandbox, args.sends)
            ratio = result["send_ms"] / result["floor_ms"]
            lines += [
                "## (b) The send path",
                "",
                f"`services.send_message` of one text to one recipient (inline dispatch) against its floor: a "
                "keep-alive `requests.Session` POST to the same sandbox plus one INSERT and one UPDATE through the "
                f"ORM; {args.sends} of each, interleaved, median wall time; CPU is this process's user+system time "
                "per call. Target: <= 1.3x the floor.",
                "",
                "| | median ms | CPU ms per call |",
                "|---|---:|---:|",
                f"| services.send_message | {result['send_ms']:.2f} | {result['send_cpu_ms']:.2f} |",
                f"| floor | {result['floor_ms']:.2f} | {result['floor_cpu_ms']:.2f} |",
                "",
                f"Ratio **{ratio:.2f}x** the floor ({verdict(ratio <= 1.3)}).",
                "",
            ]
            progress("send")
        if "bulk" in args.only:
            from bench.sending import bulk

            figures["bulk"] = result = bulk(bot, sandbox, args.bulk, args.singles)
            expected = -(-args.bulk // 20)
            lines += [
                "## (c) Bulk",
                "",
                f"One `services.send_message` to {args.bulk:,} recipients against single sends "
                f"({args.singles:,} timed; their time per message x {args.bulk:,} is the single-send figure).",
                "",
                f"- bulk: {result['bulk_seconds']:.1f} s, **{result['bulk_requests']} requests** at the sandbox "
                f"(expected {expected}: {verdict(result['bulk_requests'] == expected)})",
                f"- single sends: {result['single_seconds_each'] * 1e3:.1f} ms each ({result['single_requests']} requests "
                f"for {args.singles}), {result['single_seconds_each'] * args.bulk:.1f} s for {args.bulk:,}",
                f"- speed-up of bulk: **x{result['speedup']:.1f}**",
                "",
            ]
            progress("bulk")
        if "memory" in args.only:
            counts = [int(x) for x in args.memory.split(",")]
            runs = {}
            for count in counts:
                sandbox.reset()
                done = subprocess.run(
                    [sys.executable, str(common.REPO / "bench" / "memory.py"), str(count), sandbox.region_url()],
                    capture_output=True,
                    text=True,
                    env={**os.environ, "PYTHONPATH": str(common.REPO)},
                )
                if done.returncode != 0:  # say why: the child's stderr is captured
                    raise RuntimeError(f"bench/memory.py {count} failed:\n{done.stderr[-3000:]}")
                runs[count] = json.loads(done.stdout.strip().splitlines()[-1])
            figures["memory"] = runs
            small, large = min(runs), max(runs)
            growth = runs[large]["peak_mib"] / runs[small]["peak_mib"]
            lines += [
                "## (d) Memory of a bulk send",
                "",
                "Each send in a fresh process (Django loaded and connected first); peak RSS of the whole process "
                "(`VmHWM`), totals compared. Targets: the large send < 200 MB and <= 1.2x the small one's peak.",
                "",
                "| recipients | RSS before send MiB | peak RSS MiB |",
                "|---:|---:|---:|",
            ]
            for count in sorted(runs):
                lines.append(f"| {count:,} | {runs[count]['before_mib']:.0f} | {runs[count]['peak_mib']:.0f} |")
            lines += [
                "",
                f"{large:,} recipients: {runs[large]['peak_mib']:.0f} MiB ({verdict(runs[large]['peak_mib'] * 2**20 < 200e6)} "
                f"< 200 MB), **{growth:.2f}x** the {small:,}-recipient peak ({verdict(growth <= 1.2)} <= 1.2x).",
                "",
            ]
            progress("memory")
    finally:
        sandbox.stop()
    print("\n".join(write_results(args, argv, header, lines, started, final=True)))


if __name__ == "__main__":
    main()
