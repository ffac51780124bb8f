"""Reprocess stored callbacks (idempotent): failed ones by default."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ...callbacks.processing import process_callback_event
from ...models import CallbackEvent, ProcessingState


class Command(BaseCommand):
    help = "Reprocess stored Sinch callbacks. Safe to repeat: processing is idempotent."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("ids", nargs="*", help="CallbackEvent ids (default: every failed or pending one).")
        parser.add_argument("--all", action="store_true", help="Every stored callback, whatever its state.")
        parser.add_argument("--bot", type=int, help="Only this bot's callbacks (pk).")

    def handle(self, *args: Any, **options: Any) -> None:
        events = CallbackEvent.objects.select_related("bot").order_by("received_at")
        if options["ids"]:
            events = events.filter(pk__in=options["ids"])
        elif not options["all"]:
            events = events.filter(processing_state__in=[ProcessingState.FAILED, ProcessingState.PENDING])
        if options["bot"]:
            events = events.filter(bot_id=options["bot"])
        counts: dict[str, int] = {}
        for event in events.iterator(chunk_size=200):
            try:
                state = process_callback_event(event)
            except Exception as err:
                state = ProcessingState.FAILED
                self.stderr.write(f"{event.pk}: {type(err).__name__}: {err}")
            counts[state] = counts.get(state, 0) + 1
        summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"Reprocessed: {summary}.")
