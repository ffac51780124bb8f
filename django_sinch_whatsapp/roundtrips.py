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

The transaction's ``BEGIN`` can go with them too (``begin=True``). psycopg
sends a ``BEGIN`` of its own, in a round trip of its own, before the first
statement of every transaction it is not in autocommit for; with its
autocommit switched on (allowed while no transaction is open) it sends none,
and the ``BEGIN`` at the head of the statements opens the transaction on the
server instead. Nothing else changes: Django still believes it is in a
transaction, because it is; ``commit()`` and ``rollback()`` reach the server
whatever psycopg's autocommit says (psycopg asks the server whether a
transaction is open), and the end of the outermost ``atomic()`` switches
psycopg's autocommit on anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

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


def transaction_not_started(using: str = DEFAULT_DB_ALIAS) -> bool:
    """In an ``atomic()`` block whose transaction the server has not seen yet (the outermost block,
    before its first statement): nothing the transaction will hold exists. psycopg 3 only, where
    statements are combined (:func:`can_combine`); ``False`` elsewhere."""
    connection = connections[using]
    if not can_combine(using) or not connection.in_atomic_block or connection.get_autocommit():
        return False
    from psycopg.pq import TransactionStatus

    connection.ensure_connection()
    raw = connection.connection
    return not raw.autocommit and raw.info.transaction_status == TransactionStatus.IDLE


def _take_over_begin(connection: BaseDatabaseWrapper) -> bool:
    """Stop psycopg from sending its own ``BEGIN`` for the transaction ``atomic()`` just opened: True
    when the caller is to send it. Only when :func:`transaction_not_started`, and only when psycopg's
    ``BEGIN`` would be a plain one (no isolation level, read-only or deferrable option of its own)."""
    if not transaction_not_started(connection.alias):
        return False
    raw = connection.connection
    if raw.isolation_level is not None or raw.read_only is not None or raw.deferrable is not None:
        return False
    raw.autocommit = True
    return True


def execute_together(
    statements: Sequence[Statement], using: str = DEFAULT_DB_ALIAS, *, begin: bool = False
) -> list[list[tuple[Any, ...]]]:
    """Run ``statements`` in order; the rows each returned (``[]`` for those that return none).

    The first error is raised as Django's exception (``IntegrityError``...),
    and no statement after it runs. Run it inside ``atomic()``: on an error the
    transaction is to be rolled back, as after any failed statement. The SQL
    must hold no literal ``%`` (only ``%s`` placeholders), as for any query with
    parameters.

    ``begin``: these are the first statements of the outermost ``atomic()``
    block; where statements are combined, the transaction's ``BEGIN`` goes with
    them rather than in a round trip of its own (no effect elsewhere).
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        if not can_combine(using):
            results = []
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(list(cursor.fetchall()) if cursor.description else [])
            return results
        sql = "; ".join(sql for sql, _ in statements)
        began = begin and _take_over_begin(connection)
        if began:
            sql = f"BEGIN; {sql}"
        cursor.execute(sql, [value for _, params in statements for value in params])
        # psycopg has every result once execute() returns (errors were raised there); read them
        # off its cursor: Django's wrapper adds nothing here, and ``description`` builds a column
        # object per column just to say whether there are rows.
        raw = cursor.cursor
        if began:
            raw.nextset()  # past BEGIN's own (empty) result
        results = [_rows(raw)]
        while raw.nextset():
            results.append(_rows(raw))
    if len(results) != len(statements):  # a statement held a ";" of its own
        raise ValueError(f"{len(statements)} statements gave {len(results)} results")
    return results


def _rows(cursor: Any) -> list[tuple[Any, ...]]:
    """The rows of a psycopg cursor's current result; ``[]`` for a statement that returns none."""
    from psycopg.pq import ExecStatus

    result = cursor.pgresult
    return list(cursor.fetchall()) if result is not None and result.status == ExecStatus.TUPLES_OK else []
