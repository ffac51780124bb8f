"""Reprocess stored callbacks (idempotent): failed ones by default."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from ...callbacks.processing import process_callback_event
from ...models import CallbackEvent, ProcessingState
from ..progress import progress


class Command(BaseCommand):
    help = "Reprocess stored Sinch callbacks. Safe to repeat: processing is idempotent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("ids", nargs="*", help="CallbackEvent ids (default: every failed or pending one).")
        parser.add_argument("--all", action="store_true", help="Every stored callback, whatever its state.")
        parser.add_argument("--bot", type=int, help="Only this bot's callbacks (pk).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the callbacks it would reprocess, by state; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        events = CallbackEvent.objects.select_related("bot").order_by("received_at")
        if options["ids"]:
            try:
                events = events.filter(pk__in=[int(pk) for pk in options["ids"]])
            except ValueError:
                raise CommandError(f"ids must be whole numbers, got {' '.join(options['ids'])}") from None
        elif not options["all"]:
            events = events.filter(processing_state__in=[ProcessingState.FAILED, ProcessingState.PENDING])
        if options["bot"]:
            events = events.filter(bot_id=options["bot"])
        if options["dry_run"]:
            by_state = events.order_by().values("processing_state").annotate(n=Count("pk"))
            counts = {row["processing_state"]: row["n"] for row in by_state}
            summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing to do"
            self.stdout.write(f"Dry run: would reprocess {sum(counts.values())} callback(s) ({summary}).")
            return
        counts = {}
        with progress(self.stderr, "Reprocessing callbacks", events.count()) as advance:
            for event in events.iterator(chunk_size=200):
                try:
                    state = process_callback_event(event)
                except Exception as err:
                    state = ProcessingState.FAILED
                    self.stderr.write(f"{event.pk}: {type(err).__name__}: {err}")
                counts[state] = counts.get(state, 0) + 1
                advance()
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"Reprocessed {sum(counts.values())} callback(s): {summary}.")
