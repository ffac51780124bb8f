"""Set-based INSERTs the ORM cannot express: which rows were new, and upserts with rules.

``bulk_create(ignore_conflicts=True)`` does not say which rows it inserted,
and signals must fire once per new row. ``INSERT ... ON CONFLICT DO NOTHING
RETURNING`` does, in one statement, on PostgreSQL and SQLite (3.35+), the two
databases the package supports.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

#: Rows per statement: keeps parameters under SQLite's and PostgreSQL's limits.
CHUNK = 1000


def _column_name(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, name
    return str(field.column)


@functools.cache
def _insert_fields(model: type[models.Model]) -> tuple[models.Field[Any, Any], ...]:
    """The columns an INSERT writes; kept per model (``isinstance`` against ``AutoField`` is slow)."""
    return tuple(f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField))


def _row_values(obj: models.Model, fields: Sequence[models.Field[Any, Any]]) -> list[Any]:
    """``obj``'s values for an INSERT, as ``save()`` would write them (defaults, ``auto_now``)."""
    return [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]


# The SQL of the hot statements depends only on their shape (model, rows, clauses) and the
# backend's quoting: written once per process and shape, the values bound each time. Building
# the text per callback was a tenth of the webhook's CPU (bench/RESULTS.md, "Session 6").
# ``vendor`` keys the caches per backend; the shapes are few (rows per chunk are bounded).


@functools.cache
def _insert_head(model: type[models.Model], vendor: str) -> str:
    """``INSERT INTO "table" ("column", ...)`` of :func:`_insert_fields`, names quoted."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in _insert_fields(model))
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns})"  # quoted model metadata only


@functools.cache
def _row_placeholders(model: type[models.Model]) -> str:
    return "(" + ", ".join(["%s"] * len(_insert_fields(model))) + ")"


@functools.cache
def _insert_one_sql(model: type[models.Model], vendor: str) -> str:
    """The INSERT of one row: the webhook's callback INSERT, per request."""
    return f"{_insert_head(model, vendor)} VALUES {_row_placeholders(model)}"


@functools.lru_cache(maxsize=64)
def _insert_sql_text(
    model: type[models.Model], rows: int, conflict: str, returning: tuple[str, ...], vendor: str
) -> str:
    returned = ", ".join(connection.ops.quote_name(_column_name(model, name)) for name in returning)
    values = ", ".join([_row_placeholders(model)] * rows)
    # The conflict clause is ours; every value is bound.
    return f"{_insert_head(model, vendor)} VALUES {values} ON CONFLICT {conflict} RETURNING {returned}"


def _insert_params(objs: Sequence[models.Model]) -> list[Any]:
    fields = _insert_fields(type(objs[0]))
    return [value for obj in objs for value in _row_values(obj, fields)]


def _insert_sql(objs: Sequence[models.Model], conflict: str, returning: Sequence[str]) -> tuple[str, list[Any]]:
    """``INSERT ... ON CONFLICT <conflict> RETURNING <returning>`` for at most ``CHUNK`` rows."""
    sql = _insert_sql_text(type(objs[0]), len(objs), conflict, tuple(returning), connection.vendor)
    return sql, _insert_params(objs)


def insert_returning(
    objs: Sequence[models.Model], *, conflict: str = "DO NOTHING", returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """INSERT ``objs`` with ``ON CONFLICT <conflict>``; the ``returning`` columns of each row written.

    ``conflict`` is trusted SQL written by this package (e.g. a ``DO UPDATE SET``).
    Rows skipped by ``DO NOTHING`` are not returned.
    """
    if not objs:
        return []
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(objs), CHUNK):
            sql, params = _insert_sql(objs[start : start + CHUNK], conflict, returning)
            cursor.execute(sql, params)
            rows.extend(tuple(r) for r in cursor.fetchall())
    return rows


def insert_statement(obj: models.Model) -> tuple[str, list[Any]]:
    """The INSERT of one row whose primary key is set in Python (a UUID default), without the
    ORM's ``save()`` machinery: the webhook INSERTs one callback per request and the compilation
    cost more than the statement (bench/RESULTS.md). A unique constraint still raises
    ``IntegrityError``. Once it has run, :func:`mark_saved`."""
    model = type(obj)
    if obj.pk is None or isinstance(model._meta.pk, models.AutoField):
        raise ValueError(f"insert_row() needs the primary key set in Python; {model.__name__} has none")
    # Every concrete field, the primary key among them.
    return _insert_one_sql(model, connection.vendor), _row_values(obj, _insert_fields(model))


def mark_saved(obj: models.Model) -> None:
    """What ``save()`` sets on an instance it INSERTed."""
    obj._state.adding = False
    obj._state.db = connection.alias


def insert_row(obj: models.Model) -> None:
    """Run :func:`insert_statement` on its own."""
    sql, params = insert_statement(obj)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    mark_saved(obj)


def insert_message_for_contact(message: models.Model, *, number: str, inbound_after: Any = None) -> Any:
    """INSERT an outbound message whose contact is looked up in the same statement; the contact's id,
    or ``None`` when nothing was inserted.

    Inserted only when the message's bot has a contact with E.164 ``number``
    and, with ``inbound_after``, whose last message came after it (the
    customer care window still open). A send to a known contact is then one
    statement where it was a SELECT and an INSERT (bench/RESULTS.md, "Session
    5"); every other case (a new contact, a closed window) is the caller's,
    with nothing written.
    """
    from ..models import Contact

    model = type(message)
    if message.pk is None or isinstance(model._meta.pk, models.AutoField):
        raise ValueError(f"insert_message_for_contact() needs the primary key set in Python; {model.__name__} has none")
    quote = connection.ops.quote_name
    fields = _insert_fields(model)
    contact_field = model._meta.get_field("contact")
    values = _row_values(message, fields)
    selected, params = [], []
    for field, value in zip(fields, values, strict=True):
        if field is contact_field:
            selected.append(f"c.{quote(_column_name(Contact, 'id'))}")
        else:
            selected.append("%s")
            params.append(value)
    where = f"c.{quote(_column_name(Contact, 'bot'))} = %s AND c.{quote(_column_name(Contact, 'number'))} = %s"
    bot_value = next(v for f, v in zip(fields, values, strict=True) if f.name == "bot")
    params += [bot_value, number]
    if inbound_after is not None:
        where += f" AND c.{quote(_column_name(Contact, 'last_inbound_at'))} > %s"
        params.append(Contact._meta.get_field("last_inbound_at").get_db_prep_value(inbound_after, connection))  # type: ignore[union-attr]
    # Quoted model metadata; every value is bound.
    sql = (
        f"{_insert_head(model, connection.vendor)} "  # noqa: S608
        f"SELECT {', '.join(selected)} FROM {quote(Contact._meta.db_table)} AS c WHERE {where} "
        f"RETURNING {quote(str(contact_field.column))}"  # type: ignore[union-attr]
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = cursor.fetchall()
    if not inserted:
        return None
    mark_saved(message)
    return inserted[0][0]


def column(model: type[models.Model], name: str) -> str:
    """``"table"."column"`` for a field, quoted: for conflict clauses."""
    quote = connection.ops.quote_name
    return f"{quote(model._meta.db_table)}.{quote(_column_name(model, name))}"


def excluded(model: type[models.Model], name: str) -> str:
    return f"excluded.{connection.ops.quote_name(_column_name(model, name))}"


def quoted_column(model: type[models.Model], name: str) -> str:
    """``"column"`` alone, quoted: for conflict targets."""
    return connection.ops.quote_name(_column_name(model, name))


def _literal(value: str | int) -> str:
    """One of this package's own constants (a state's name, its rank) as an SQL literal: they are
    written into the cached text rather than bound, so each statement binds only what varies."""
    if isinstance(value, int):
        return str(int(value))
    if not value.replace("_", "").isalnum() or not value.isascii():
        raise ValueError(f"{value!r} is not a state name")
    return f"'{value}'"


def _rank_sql(state_column: str) -> str:
    from ..models import STATE_RANK

    whens = " ".join(f"WHEN {_literal(str(state))} THEN {_literal(rank)}" for state, rank in STATE_RANK.items())
    return f"(CASE {state_column} {whens} ELSE -1 END)"


@functools.lru_cache(maxsize=64)
def _advance_sql_text(rows: int, vendor: str) -> str:
    """The UPDATE of :func:`_advance_sql` for ``rows`` moves."""
    from ..models import LOCKED_STATES, OutboundMessage

    quote = connection.ops.quote_name
    meta = OutboundMessage._meta
    assert meta.pk is not None
    table = quote(meta.db_table)

    def col(name: str) -> str:
        return quote(_column_name(OutboundMessage, name))

    selects = ["SELECT %s AS mid, %s AS state, %s AS status, %s AS details, %s AS new_rank"] * rows
    locked = ", ".join(_literal(str(state)) for state in sorted(LOCKED_STATES))
    rank = _rank_sql(f"{table}.{col('state')}")
    # Names are quoted model metadata, the states and ranks this package's constants; every value is bound.
    return (
        f"UPDATE {table} SET {col('state')} = v.state, "  # noqa: S608
        f"{col('sinch_status')} = CASE WHEN v.status = '' THEN {table}.{col('sinch_status')} ELSE v.status END, "
        f"{col('state_details')} = CASE WHEN v.details = '' THEN {table}.{col('state_details')} "
        "ELSE v.details END, "
        f"{col('state_changed_at')} = %s, {col('updated_at')} = %s "
        f"FROM ({' UNION ALL '.join(selects)}) AS v "
        f"WHERE {table}.{quote(str(meta.pk.column))} = v.mid "
        f"AND {table}.{col('state')} NOT IN ({locked}) AND {rank} < v.new_rank"
    )


def _advance_sql(moves: Sequence[tuple[Any, Any]], now: Any) -> tuple[str, list[Any]]:
    """``UPDATE ... FROM (rows)`` moving messages forward (see :func:`advance_states`), at most ``CHUNK``."""
    return _advance_sql_text(len(moves), connection.vendor), _advance_params(moves, now)


def _advance_params(moves: Sequence[tuple[Any, Any]], now: Any) -> list[Any]:
    from ..models import STATE_RANK, OutboundMessage

    meta = OutboundMessage._meta
    pk_field = meta.pk
    assert pk_field is not None
    stamp = meta.get_field("updated_at").get_db_prep_value(now, connection)  # type: ignore[union-attr]
    params: list[Any] = [stamp, stamp]
    for pk, update in moves:
        params += [
            pk_field.get_db_prep_value(pk, connection),
            str(update.state),
            (update.status or "")[:16],
            update.details or "",
            STATE_RANK[update.state],
        ]
    return params


def advance_states(moves: Sequence[tuple[Any, Any]], now: Any) -> int:
    """Move messages to new states in one ``UPDATE ... FROM (rows)``, forward only; returns rows moved.

    ``moves`` are ``(message pk, StatusUpdate)``. The ORM's ``Case(When(pk=...))``
    spelling of the same statement costs more Python to compile than the
    database takes to run it (bench/RESULTS.md); this one is a plain join
    against the new states. The WHERE clause keeps the rule the planner
    applied in Python (locked states stay, ranks only rise), so a bug upstream
    cannot move a message backwards. SQLite 3.33+ and PostgreSQL.
    """
    moved = 0
    with connection.cursor() as cursor:
        for start in range(0, len(moves), CHUNK):
            sql, params = _advance_sql(moves[start : start + CHUNK], now)
            cursor.execute(sql, params)
            moved += cursor.rowcount
    return moved


def insert_and_advance(
    objs: Sequence[models.Model], returning: Sequence[str], moves: Sequence[tuple[Any, Any]], now: Any
) -> tuple[list[tuple[Any, ...]], int]:
    """:func:`insert_returning` (``DO NOTHING``) and :func:`advance_states`: the rows written, the rows moved.

    On PostgreSQL one statement (data-modifying ``WITH``: one round trip instead of two)
    when both fit in a chunk; otherwise the two statements. The UPDATE does not read
    the inserted rows, so running both on one snapshot changes nothing.
    """
    if connection.vendor != "postgresql" or not objs or not moves or len(objs) > CHUNK or len(moves) > CHUNK:
        return insert_returning(objs, returning=returning), advance_states(moves, now)
    sql = _insert_and_advance_text(type(objs[0]), len(objs), tuple(returning), len(moves), connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_insert_params(objs), *_advance_params(moves, now)])
        result = cursor.fetchall()
    # The last row is the UPDATE's count; the others are the INSERT's rows.
    return [tuple(r[:-1]) for r in result[:-1]], int(result[-1][-1])


@functools.lru_cache(maxsize=64)
def _insert_and_advance_text(
    model: type[models.Model], rows: int, returning: tuple[str, ...], moves: int, vendor: str
) -> str:
    insert_sql = _insert_sql_text(model, rows, "DO NOTHING", returning, vendor)
    update_sql = _advance_sql_text(moves, vendor)
    nulls = ", ".join(["NULL"] * len(returning))
    columns = ", ".join(connection.ops.quote_name(_column_name(model, name)) for name in returning)
    # Both statements are built from quoted metadata; every value is bound.
    return (
        f"WITH ins AS ({insert_sql}), upd AS ({update_sql} RETURNING 1) "  # noqa: S608
        f"SELECT {columns}, 0::bigint FROM ins UNION ALL SELECT {nulls}, count(*) FROM upd"
    )
