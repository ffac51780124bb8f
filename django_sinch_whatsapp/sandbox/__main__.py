"""``python -m django_sinch_whatsapp.sandbox --port 8765 --bots-file bots.json``

The bots file is a JSON list (or ``{"bots": [...]}``) of objects with the
arguments of ``SandboxServer.register_bot``: ``bot_id``, ``token``, ``region``
(``us``/``eu``), ``callback_url``, ``callback_key``, ``signature_encoding``
(``base64``/``hex``), ``require_opt_in``, ``msisdn``.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from typing import Any

from .server import SandboxServer


def load_bots(path: str | None) -> list[dict[str, Any]]:
    if not path:
        return []
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    bots = data.get("bots") if isinstance(data, dict) else data
    if not isinstance(bots, list) or not all(isinstance(bot, dict) for bot in bots):
        raise SystemExit(f"{path}: expected a JSON list of bot objects (or {{'bots': [...]}})")
    return bots


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m django_sinch_whatsapp.sandbox",
        description="A local stand-in for the Sinch WhatsApp API (US host under /us1, EU host under /eu1).",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1; no auth on /_sandbox)"
    )
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    parser.add_argument("--bots-file", help="JSON file of bots to register at start and after each reset")
    parser.add_argument("--step-delay", type=float, default=0.5, help="seconds between delivery reports (default 0.5)")
    parser.add_argument(
        "--statuses-per-callback",
        type=int,
        default=1,
        help="batch delivery reports as Sinch does: at most this many statuses in one callback (default 1)",
    )
    parser.add_argument(
        "--batch-window",
        type=float,
        default=0.05,
        help="seconds a due delivery report waits for others to batch with (default 0.05)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="log every request")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(message)s")
    try:
        bots = load_bots(args.bots_file)
        server = SandboxServer(
            host=args.host,
            port=args.port,
            step_delay=args.step_delay,
            bots=bots,
            statuses_per_callback=args.statuses_per_callback,
            callback_batch_window=args.batch_window,
        )
    except (OSError, ValueError, TypeError) as err:
        print(f"sandbox: {err}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.start()
    except OSError as err:
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {err}", file=sys.stderr)
        return 2
    print(f"Sinch WhatsApp sandbox on {server.base_url}", flush=True)
    print(f"  US host: {server.region_url('us')}\n  EU host: {server.region_url('eu')}", flush=True)
    print(f"  control: {server.base_url}/_sandbox/  bots: {len(bots)}", flush=True)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
