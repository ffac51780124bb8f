"""Progress for the long management commands: a bar on a terminal, plain periodic lines otherwise.

Progress goes to the command's stderr, so stdout carries only the one summary line a command ends with
(what cron mails and scripts read). On a terminal a ``rich`` bar is drawn; elsewhere (cron, CI, a pipe)
a line ``<label>: <done>/<total>`` is written about every tenth of the work and at the end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from django.db.models import QuerySet


class Advance(Protocol):
    def __call__(self, steps: int = 1) -> None: ...


#: Plain lines at most this often (seconds), besides every tenth of the work.
PLAIN_INTERVAL = 10.0


def _stream(output: Any) -> Any:
    return getattr(output, "_out", output)  # Django's OutputWrapper keeps the real stream in _out


@contextmanager
def progress(output: Any, label: str, total: int) -> Iterator[Advance]:
    """Report ``total`` steps of ``label`` on ``output`` (a command's ``self.stderr``); yields ``advance(n)``."""
    stream = _stream(output)
    if total <= 0:
        yield lambda steps=1: None
        return
    if hasattr(stream, "isatty") and stream.isatty():
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=Console(file=stream), transient=True) as bar:
            task = bar.add_task(label, total=total)
            yield lambda steps=1: bar.advance(task, steps)
        return
    done = 0
    step = max(1, total // 10)
    next_line = step
    last_time = time.monotonic()

    def advance(steps: int = 1) -> None:
        nonlocal done, next_line, last_time
        done += steps
        now = time.monotonic()
        if done >= next_line or done >= total or now - last_time >= PLAIN_INTERVAL:
            output.write(f"{label}: {min(done, total)}/{total}")
            last_time = now
            while next_line <= done:
                next_line += step

    yield advance


#: Rows deleted per statement: short transactions, and a bar that moves.
DELETE_CHUNK = 1000


def delete_in_chunks(queryset: QuerySet[Any], output: Any, label: str) -> int:
    """Delete ``queryset``'s rows ``DELETE_CHUNK`` at a time with progress; the number of rows deleted.

    Only the model's own rows are counted (not the cascades Django's ``delete()`` also reports).
    """
    model = queryset.model
    deleted = 0
    with progress(output, label, queryset.count()) as advance:
        while True:
            pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:DELETE_CHUNK])
            if not pks:
                return deleted
            _, per_model = model._default_manager.filter(pk__in=pks).delete()
            count = per_model.get(model._meta.label, 0)
            deleted += count
            advance(len(pks))
