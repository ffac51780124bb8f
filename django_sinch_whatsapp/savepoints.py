"""A savepoint that costs no round trip of its own: the webhook's processing runs in one per callback.

``transaction.atomic()`` nested in a transaction sends ``SAVEPOINT`` when it
opens and ``RELEASE SAVEPOINT`` when it closes: two round trips of the eight a
callback took, for statements that do no work (bench/RESULTS.md, "Session 5").
Here the caller may send the ``SAVEPOINT`` with the statements before it (the
webhook: in one round trip, :mod:`..roundtrips`), and nothing is released:
PostgreSQL and SQLite release every savepoint at ``COMMIT``.

Everything else is what ``atomic()`` does for a nested block, the same
bookkeeping in the same order (Django's ``Atomic.__exit__``): the name is on
``savepoint_ids`` while the block runs, so ``transaction.on_commit()``
callbacks registered inside it are dropped when it rolls back; an inner
``atomic(savepoint=False)`` that failed marks the block for rollback; a
failure rolls back to the savepoint and is raised.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, Error, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.transaction import TransactionManagementError

_names = itertools.count(1)

#: The name of a transaction's first savepoint (see :func:`new_name`).
FIRST = "sinch_wa_first"


def new_name(*, first: bool = False) -> str:
    """A savepoint name not used before in the transaction (which may hold Django's ``s<thread>_x<n>`` ones).

    ``first``: no savepoint exists in the transaction yet (the caller knows it,
    e.g. by :func:`..roundtrips.transaction_not_started`); the name is then always
    the same, so the statement creating it is the same text every time (psycopg
    keeps the conversion of a query text it has seen before: a name new for every
    callback made the webhook's first statement new to it every time). Unique in
    this process otherwise. Django drops the ``on_commit`` callbacks of a
    savepoint rolled back by its name, so two savepoints of one transaction must
    not share one.
    """
    return FIRST if first else f"sinch_wa_{next(_names)}"


def create_sql(name: str, using: str = DEFAULT_DB_ALIAS) -> str:
    return str(connections[using].ops.savepoint_create_sql(name))


@contextmanager
def savepoint(name: str, *, created: bool = False, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run the block inside savepoint ``name`` of the current transaction; roll back to it if it fails.

    ``created``: the caller already sent ``SAVEPOINT name`` (:func:`create_sql`)
    in this transaction, with its last statement. Not released on success: the
    transaction's ``COMMIT`` does that.
    """
    connection = connections[using]
    if not connection.in_atomic_block:
        raise TransactionManagementError("savepoint() needs an atomic block around it")
    if connection.needs_rollback:
        raise TransactionManagementError("The current transaction failed; no savepoint can be made in it")
    if not created:
        with connection.cursor() as cursor:
            cursor.execute(create_sql(name, using))
    connection.savepoint_ids.append(name)
    try:
        yield
    except BaseException:
        connection.savepoint_ids.pop()
        _roll_back(connection, name)
        raise
    connection.savepoint_ids.pop()
    if connection.needs_rollback:  # an inner atomic(savepoint=False) failed and was caught
        _roll_back(connection, name)


def _roll_back(connection: BaseDatabaseWrapper, name: str) -> None:
    connection.needs_rollback = False
    try:
        connection.savepoint_rollback(name)
    except Error:  # as atomic(): mark the transaction for rollback rather than hide the first error
        connection.needs_rollback = True
