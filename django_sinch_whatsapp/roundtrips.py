"""Several statements in one round trip to the database, where the driver can send them together.

Under load a webhook worker spends more time waiting on PostgreSQL than
running Python (bench/RESULTS.md, "Session 5": a sampling profile of the
gunicorn workers), and much of that wait is per round trip, not per byte of
work. The callback's first statements (the INSERT of the raw callback, the
savepoint processing runs in, the ``SELECT ... FOR UPDATE`` of the messages
its reports name) need no answer from one another, so with psycopg 3's
client-side binding (Django's default) they go as one query string: the
simple query protocol runs several statements and answers with one result
each (``cursor.nextset()``). psycopg's pipeline mode would do the same, but
it spent more of the worker's CPU in its own bookkeeping than the round trip
cost. Elsewhere (SQLite, psycopg2, server-side binding) the statements run one
after the other: same statements, same order, same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

Statement = tuple[str, Sequence[Any]]


def can_combine(using: str = DEFAULT_DB_ALIAS) -> bool:
    """psycopg 3 with client-side binding: one ``execute()`` may hold several statements."""
    connection = connections[using]
    if connection.vendor != "postgresql" or connection.settings_dict["OPTIONS"].get("server_side_binding") is True:
        return False
    try:
        import psycopg  # noqa: F401
    except ImportError:  # psycopg2: no nextset()
        return False
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return bool(is_psycopg3)


def execute_together(statements: Sequence[Statement], using: str = DEFAULT_DB_ALIAS) -> list[list[tuple[Any, ...]]]:
    """Run ``statements`` in order; the rows each returned (``[]`` for those that return none).

    The first error is raised as Django's exception (``IntegrityError``...),
    and no statement after it runs. Run it inside ``atomic()``: on an error the
    transaction is to be rolled back, as after any failed statement. The SQL
    must hold no literal ``%`` (only ``%s`` placeholders), as for any query with
    parameters.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        if not can_combine(using):
            results = []
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(list(cursor.fetchall()) if cursor.description else [])
            return results
        cursor.execute("; ".join(sql for sql, _ in statements), [value for _, params in statements for value in params])
        results = [list(cursor.fetchall()) if cursor.description else []]
        while cursor.nextset():
            results.append(list(cursor.fetchall()) if cursor.description else [])
    if len(results) != len(statements):  # a statement held a ";" of its own
        raise ValueError(f"{len(statements)} statements gave {len(results)} results")
    return results
