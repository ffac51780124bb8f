"""Settle messages stuck short of a final state, from Sinch's callback store."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand

from ...ratelimit import waiting_allowed
from ...services.reconciliation import reconcile
from ..progress import progress


class Command(BaseCommand):
    help = (
        "Poll Sinch's callback store for messages stuck in non-final states and apply what it holds; confirm "
        "which unknown messages without a Sinch id Sinch never took (those may then be retried)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--older-than", type=float, default=900, help="Seconds since the message was recorded.")
        parser.add_argument("--limit", type=int, default=500, help="At most this many messages per run.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Count what a run would re-dispatch, mark unknown and look up; change nothing, call no one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with ExitStack() as stack:
            # A command is a worker context: batches it re-dispatches wait for the bot's rate limit.
            stack.enter_context(waiting_allowed())
            report = reconcile(
                older_than=timedelta(seconds=options["older_than"]),
                limit=options["limit"],
                dry_run=options["dry_run"],
                progress=lambda total: stack.enter_context(progress(self.stderr, "Looking up messages", total)),
            )
        for error in report.errors:
            self.stderr.write(error)
        self.stdout.write(report.summary())
        waiting = report.without_sinch_id
        if waiting is not None and waiting.count:
            age = waiting.oldest_age
            hours = age.total_seconds() / 3600 if age is not None else 0.0
            # Not part of the run's summary: rows no run can settle, said once so nobody waits for them.
            self.stdout.write(
                f"{waiting.count} message(s) in state unknown have no Sinch id (oldest recorded {hours:.1f} h ago): "
                "a delivery report for the same recipient settles them; "
                f"{waiting.absent_confirmed} confirmed never taken by Sinch may be retried."
            )
