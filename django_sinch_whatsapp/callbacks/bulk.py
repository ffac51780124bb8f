"""Set-based INSERTs the ORM cannot express: which rows were new, and upserts with rules.

``bulk_create(ignore_conflicts=True)`` does not say which rows it inserted,
and signals must fire once per new row. ``INSERT ... ON CONFLICT DO NOTHING
RETURNING`` does, in one statement, on PostgreSQL and SQLite (3.35+), the two
databases the package supports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

#: Rows per statement: keeps parameters under SQLite's and PostgreSQL's limits.
CHUNK = 1000


def _column_name(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field) and field.column, name
    return str(field.column)


def _insert_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)]


def insert_returning(
    objs: Sequence[models.Model], *, conflict: str = "DO NOTHING", returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """INSERT ``objs`` with ``ON CONFLICT <conflict>``; the ``returning`` columns of each row written.

    ``conflict`` is trusted SQL written by this package (e.g. a ``DO UPDATE SET``).
    Rows skipped by ``DO NOTHING`` are not returned.
    """
    if not objs:
        return []
    model = type(objs[0])
    fields = _insert_fields(model)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    returned = ", ".join(quote(_column_name(model, name)) for name in returning)
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(objs), CHUNK):
            chunk = objs[start : start + CHUNK]
            params: list[Any] = []
            for obj in chunk:
                for f in fields:
                    params.append(f.get_db_prep_save(f.pre_save(obj, add=True), connection))
            row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
            values = ", ".join([row_sql] * len(chunk))
            # Names are quoted model metadata and the conflict clause is ours; every value is bound.
            sql = f"INSERT INTO {table} ({columns}) VALUES {values} ON CONFLICT {conflict} RETURNING {returned}"  # noqa: S608
            cursor.execute(sql, params)
            rows.extend(tuple(r) for r in cursor.fetchall())
    return rows


def column(model: type[models.Model], name: str) -> str:
    """``"table"."column"`` for a field, quoted: for conflict clauses."""
    quote = connection.ops.quote_name
    return f"{quote(model._meta.db_table)}.{quote(_column_name(model, name))}"


def excluded(model: type[models.Model], name: str) -> str:
    return f"excluded.{connection.ops.quote_name(_column_name(model, name))}"


def quoted_column(model: type[models.Model], name: str) -> str:
    """``"column"`` alone, quoted: for conflict targets."""
    return connection.ops.quote_name(_column_name(model, name))
