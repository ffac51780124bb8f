"""Settle messages stuck short of a final state, from Sinch's callback store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand

from ...services.reconciliation import reconcile


class Command(BaseCommand):
    help = "Poll Sinch's callback store for messages stuck in non-final states and apply what it holds."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--older-than", type=float, default=900, help="Seconds since the message was recorded.")
        parser.add_argument("--limit", type=int, default=500, help="At most this many messages per run.")

    def handle(self, *args: Any, **options: Any) -> None:
        report = reconcile(older_than=timedelta(seconds=options["older_than"]), limit=options["limit"])
        self.stdout.write(
            f"Checked {report.checked}, changed {report.changed}, "
            f"re-dispatched {report.redispatched_batches} batch(es), "
            f"marked {report.abandoned} unfinished dispatch(es) unknown, {len(report.errors)} error(s)."
        )
        waiting = report.without_sinch_id
        if waiting is not None and waiting.count:
            age = waiting.oldest_age
            hours = age.total_seconds() / 3600 if age is not None else 0.0
            self.stdout.write(
                f"{waiting.count} message(s) in state unknown have no Sinch id (oldest recorded {hours:.1f} h ago): "
                "reconciliation cannot look them up; a delivery report for the same recipient settles them."
            )
        for error in report.errors:
            self.stderr.write(error)
