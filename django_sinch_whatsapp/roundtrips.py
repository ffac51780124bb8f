"""Several statements in one round trip to the database, where the driver can send them together.

Under load a webhook worker spends more time waiting on PostgreSQL than
running Python (bench/RESULTS.md, "Session 5": a sampling profile of the
gunicorn workers), and much of that wait is per round trip, not per byte of
work. The callback's first statements (``BEGIN``, the INSERT of the raw
callback, the savepoint processing runs in, the ``SELECT ... FOR UPDATE`` of
the messages its reports name) need no answer from one another, so psycopg 3
sends them in one pipeline (https://www.psycopg.org/psycopg3/docs/advanced/pipeline.html).
Elsewhere (SQLite, psycopg2) they run one after the other: same statements,
same order, same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

Statement = tuple[str, Sequence[Any]]


def can_pipeline(using: str = DEFAULT_DB_ALIAS) -> bool:
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    try:
        import psycopg
    except ImportError:  # psycopg2
        return False
    connection.ensure_connection()
    return isinstance(connection.connection, psycopg.Connection) and psycopg.Pipeline.is_supported()


def execute_together(statements: Sequence[Statement], using: str = DEFAULT_DB_ALIAS) -> list[list[tuple[Any, ...]]]:
    """Run ``statements`` in order; the rows each returned (``[]`` for those that return none).

    The first error is raised as Django's exception (``IntegrityError``...),
    and no statement after it takes effect: the pipeline stops at an error, as
    the one-by-one path does. Run it inside ``atomic()``: on an error the
    transaction is to be rolled back, as after any failed statement.
    """
    connection = connections[using]
    if not can_pipeline(using):
        results = []
        for sql, params in statements:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                results.append(list(cursor.fetchall()) if cursor.description else [])
        return results
    cursors = []
    try:
        with connection.wrap_database_errors, connection.connection.pipeline():
            for sql, params in statements:
                cursor = connection.cursor()
                cursors.append(cursor)
                cursor.execute(sql, params)
        return [list(c.fetchall()) if c.description else [] for c in cursors]
    finally:
        for cursor in cursors:
            cursor.close()
