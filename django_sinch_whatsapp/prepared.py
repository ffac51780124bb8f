"""Statements PostgreSQL parses and plans once per connection: ``PREPARE`` once, then ``EXECUTE``.

Parsing and planning the webhook's reports statement (:mod:`.callbacks.reports_sql`)
cost PostgreSQL more than running it: 0.83-0.97 ms of server CPU per callback
sent as text, 0.30-0.33 ms prepared (bench/RESULTS.md, "Session 9"). psycopg
prepares statements itself only with server-side binding, where each statement
is a round trip of its own; the webhook sends several statements in one query
string (:mod:`.roundtrips`), so it prepares them in SQL: the first time a
connection sees a statement, ``PREPARE <name> AS <statement>`` travels in the
same query string just before ``EXECUTE <name>(<values>)``; after that only the
``EXECUTE``. The values are bound client-side like any others.

What a connection has prepared is remembered per connection (a new connection
starts with nothing), only once the query string that prepared it succeeded,
and prepared again after :data:`MAX_USES` executions; names are never reused, so a ``PREPARE`` that ran in a query string
that failed cannot collide with a later one. A connection whose prepared
statements vanish (a pooler in transaction mode hands each transaction another
server connection; ``DISCARD ALL``) answers ``prepared statement ... does not
exist``: the caller forgets them (:func:`forget`) and runs its statements
again, prepared anew; after a few such answers the process stops preparing,
and says so once. ``SINCH_WHATSAPP["PREPARED_STATEMENTS"] = False`` never prepares.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from .conf import app_settings
from .roundtrips import Statement, can_combine

logger = logging.getLogger("django_sinch_whatsapp.prepared")

_names = itertools.count(1)
#: "does not exist" answers before this process stops preparing.
MAX_LOST = 3
#: Statements one connection prepares at most (the reports' statement has a text per number of reports).
MAX_PER_CONNECTION = 16
#: Executions of a prepared statement before it is prepared (planned) again. PostgreSQL keeps a
#: prepared statement's plan until the next ANALYZE of its tables: a plan made while a table was
#: small (a new install, or autovacuum off) would stay a scan of the whole table as it grows. Planned
#: again every MAX_USES executions, it follows the table's size (the planner reads it at planning
#: time) at the cost of one plan per MAX_USES callbacks.
MAX_USES = 1000
_lost = 0
_PLACEHOLDER = re.compile(r"%s")


class Preparing:
    """The statements of one query string, prepared where they can be; :meth:`succeeded` once it ran."""

    def __init__(self, using: str = DEFAULT_DB_ALIAS) -> None:
        self.connection = connections[using]
        self.enabled = _lost < MAX_LOST and app_settings.PREPARED_STATEMENTS is True and can_combine(using)
        self._new: list[tuple[str, str]] = []

    def statements(self, statement: Statement) -> list[Statement]:
        """``statement`` as ``EXECUTE`` of its prepared form (with its ``PREPARE`` ahead of it the first
        time on this connection), or as it is where nothing is prepared."""
        if not self.enabled:
            return [statement]
        sql, params = statement
        kept = _kept(self.connection)
        found = kept.get(sql)
        if found is not None and found[1] < MAX_USES:
            found[1] += 1
            return [_execute(found[0], params)]
        retired: list[Statement] = []
        if found is not None:  # planned anew: the table may have grown since (see MAX_USES)
            retired = [(f"DEALLOCATE {found[0]}", [])]
            del kept[sql]
        elif len(kept) + len(self._new) >= MAX_PER_CONNECTION:
            return [statement]
        name = f"sinch_wa_p{next(_names)}"
        self._new.append((sql, name))
        positions = itertools.count(1)
        text = _PLACEHOLDER.sub(lambda _: f"${next(positions)}", sql)
        return [*retired, (f"PREPARE {name} AS {text}", []), _execute(name, params)]

    def succeeded(self) -> None:
        """The query string ran: its ``PREPARE`` statements exist on the connection now."""
        if self._new:
            _kept(self.connection).update((sql, [name, 1]) for sql, name in self._new)
            self._new = []


def _execute(name: str, params: Sequence[Any]) -> Statement:
    values = ", ".join(["%s"] * len(params))
    return (f"EXECUTE {name}({values})" if values else f"EXECUTE {name}", params)


def _kept(connection: Any) -> dict[str, list[Any]]:
    """Statement text -> [name, uses] of what the connection's current database connection has prepared."""
    raw = connection.connection
    record = connection.__dict__.get("_sinch_wa_prepared")
    if record is None or record[0] is not raw:
        record = (raw, {})
        connection.__dict__["_sinch_wa_prepared"] = record
    return record[1]


def lost(err: BaseException) -> bool:
    """Whether ``err`` says a prepared statement does not exist on the server (SQLSTATE 26000)."""
    return getattr(err.__cause__, "sqlstate", None) == "26000"


def forget(err: DatabaseError, using: str = DEFAULT_DB_ALIAS) -> None:
    """After a failed query string: when it failed because the server lost what the connection had
    prepared, forget all of it (and after :data:`MAX_LOST` times, stop preparing in this process)."""
    global _lost
    if not lost(err):
        return
    connections[using].__dict__.pop("_sinch_wa_prepared", None)
    _lost += 1
    if _lost == MAX_LOST:
        logger.warning(
            "PostgreSQL lost this process's prepared statements %d times (a connection pooler in "
            "transaction mode?): the webhook sends its statements as text from now on",
            MAX_LOST,
        )
