"""Delete idempotency keys of sends older than a retention period (at least 24 hours).

A client's retry of a send comes within minutes or hours; a key kept a day
or more answers every such retry with the first answer. Run it daily.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ...conf import app_settings
from ...services import idempotency


class Command(BaseCommand):
    help = "Delete send idempotency keys older than --hours (default IDEMPOTENCY_KEY_HOURS, 48; at least 24)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--hours",
            type=float,
            default=None,
            help="Delete keys older than this many hours (default IDEMPOTENCY_KEY_HOURS; at least 24).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        hours = float(app_settings.IDEMPOTENCY_KEY_HOURS if options["hours"] is None else options["hours"])
        try:
            deleted = idempotency.prune(hours=hours)
        except ValueError as err:
            raise CommandError(f"--hours {hours:g}: keys are kept at least 24 hours ({err})") from None
        self.stdout.write(f"Deleted {deleted} idempotency key(s) older than {hours:g} hours.")
