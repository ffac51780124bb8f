"""What psycopg sends PostgreSQL, message by message: round trips counted where they happen.

Django's ``CaptureQueriesContext`` sees the queries it runs, not the ``BEGIN``
psycopg sends on its own nor how many statements share one query message;
libpq's protocol trace (``PQtrace``) sees every message on the wire.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


class Trace:
    def __init__(self) -> None:
        self.lines: list[str] = []

    @property
    def queries(self) -> list[str]:
        """The text of each query message the client sent (one round trip each)."""
        found = []
        for line in self.lines:
            parts = line.split("\t")
            if len(parts) >= 4 and parts[0] == "F" and parts[2] == "Query":
                text = parts[3].strip()
                found.append(text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text)
        return found


@contextmanager
def wire_trace() -> Iterator[Trace]:
    """Trace the default connection's messages (PostgreSQL with psycopg 3 only)."""
    from psycopg import pq

    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    trace = Trace()
    with tempfile.TemporaryFile() as out:
        pgconn.trace(out.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            yield trace
        finally:
            pgconn.untrace()
            out.seek(0)
            trace.lines = out.read().decode("utf-8", "replace").splitlines()
