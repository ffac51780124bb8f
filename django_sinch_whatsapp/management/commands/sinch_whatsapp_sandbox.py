"""Run the local Sinch sandbox and register this project's sandbox bots with it.

Bots whose base URL override points at the sandbox are registered with their
token, region, signing key and webhook URL (``PUBLIC_BASE_URL`` must be set
for callbacks to reach this site).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from ...models import Bot
from ...sandbox import SandboxServer


class Command(BaseCommand):
    help = "Run the Sinch WhatsApp sandbox (a local stand-in for Sinch) for this project's sandbox bots."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
        parser.add_argument("--port", type=int, default=8765, help="Port to listen on (0 picks a free one).")
        parser.add_argument("--step-delay", type=float, default=0.5, help="Seconds between delivery reports.")
        parser.add_argument(
            "--statuses-per-callback",
            type=int,
            default=1,
            help="Batch delivery reports as Sinch does: at most this many statuses in one callback.",
        )
        parser.add_argument(
            "--batch-window",
            type=float,
            default=0.05,
            help="Seconds a due delivery report waits for others to go out in the same callback.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        server = SandboxServer(
            host=options["host"],
            port=options["port"],
            step_delay=options["step_delay"],
            statuses_per_callback=options["statuses_per_callback"],
            callback_batch_window=options["batch_window"],
        ).start()
        registered = 0
        for bot in Bot.objects.filter(is_active=True).exclude(base_url_override=""):
            if not bot.base_url_override.startswith(server.base_url):
                continue
            region = "eu" if bot.base_url_override.rstrip("/").endswith("/eu1") else "us"
            server.register_bot(
                bot.sinch_bot_id,
                bot.bearer_token.reveal(),
                region=region,
                callback_url=bot.callback_url or None,
                callback_key=bot.callback_key.reveal() if bot.callback_key else None,
            )
            registered += 1
        self.stdout.write(
            f"Sandbox on {server.base_url} (US: {server.region_url('us')}, EU: {server.region_url('eu')}); {registered} bot(s) registered."
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
