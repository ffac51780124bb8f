"""Delete idempotency keys of sends older than a retention period (at least 24 hours).

A client's retry of a send comes within minutes or hours; a key kept a day
or more answers every such retry with the first answer. Run it daily.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ...conf import app_settings
from ...models import IdempotencyKey
from ...services import idempotency
from ..progress import delete_in_chunks


class Command(BaseCommand):
    help = "Delete send idempotency keys older than --hours (default IDEMPOTENCY_KEY_HOURS, 48; at least 24)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--hours",
            type=float,
            default=None,
            help="Delete keys older than this many hours (default IDEMPOTENCY_KEY_HOURS; at least 24).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count the keys it would delete; delete none.")

    def handle(self, *args: Any, **options: Any) -> None:
        hours = float(app_settings.IDEMPOTENCY_KEY_HOURS if options["hours"] is None else options["hours"])
        if hours < idempotency.MINIMUM_HOURS:
            raise CommandError(
                f"--hours {hours:g}: keys are kept at least {idempotency.MINIMUM_HOURS} hours "
                "(a client's retry must still find its first answer)"
            )
        old = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - timedelta(hours=hours))
        if options["dry_run"]:
            self.stdout.write(f"Dry run: would delete {old.count()} idempotency key(s) older than {hours:g} hours.")
            return
        deleted = delete_in_chunks(old, self.stderr, "Deleting idempotency keys")
        self.stdout.write(f"Deleted {deleted} idempotency key(s) older than {hours:g} hours.")
