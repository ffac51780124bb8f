"""Delete processed callbacks older than a retention period.

Stored callbacks are also the replay guard (their nonces): a retention
shorter than Sinch's retry horizon (81,920 s, about 22.75 hours, after the
first attempt; whatsapp-callback.md) would let a replayed callback through,
so anything under two days is refused.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ...models import CallbackEvent, ProcessingState
from ..progress import delete_in_chunks

MINIMUM_DAYS = 2


class Command(BaseCommand):
    help = "Delete processed Sinch callbacks older than --days (default 30, at least 2). Failed ones are kept."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--days",
            type=float,
            default=30,
            help="Delete processed callbacks older than this many days (at least 2: replay detection must outlive Sinch's retries).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count the callbacks it would delete; delete none.")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days < MINIMUM_DAYS:
            raise CommandError(
                f"--days {days:g} is under {MINIMUM_DAYS}: nonces must outlive Sinch's retries (about 22.75 hours)."
            )
        cutoff = timezone.now() - timedelta(days=days)
        old = CallbackEvent.objects.filter(
            received_at__lt=cutoff,
            processing_state__in=[ProcessingState.PROCESSED, ProcessingState.UNINTERPRETED],
        )
        when = f"received before {cutoff:%Y-%m-%d %H:%M} UTC"
        if options["dry_run"]:
            self.stdout.write(f"Dry run: would delete {old.count()} callback(s) {when}; nothing was deleted.")
            return
        deleted = delete_in_chunks(old, self.stderr, "Deleting callbacks")
        self.stdout.write(f"Deleted {deleted} callback(s) {when}.")
