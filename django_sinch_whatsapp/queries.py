"""The hot paths' reads, with their SQL built once per process.

Compiling an ORM query costs more than PostgreSQL takes to answer it: on the
bench machine ``Bot.objects.filter(webhook_id=...).first()`` took 1.7 ms where
the same SELECT through ``raw()`` took 0.55 ms, and the messages' ``SELECT ...
FOR UPDATE`` 2.7 ms against 1.1 ms (bench/RESULTS.md, "Session 4"). Every
callback pays the bot and the messages, every send its recipients' contacts,
so those reads are written here once, from the models' own metadata. The bot
and the contacts run through ``raw()``; the messages' rows, which the webhook
fetches in one round trip with its first statements (:mod:`.roundtrips`), are
turned into models here with the same converters a query applies (encrypted
secrets, JSON).
"""

from __future__ import annotations

import copy
import functools
import time
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection, models

from .callbacks.bulk import column
from .conf import app_settings
from .models import Bot, Contact, OutboundMessage

M = TypeVar("M", bound=models.Model)


@functools.cache
def _select(model: type[models.Model], vendor: str) -> str:
    """``SELECT <every column> FROM <table>``, names quoted (``vendor`` keys the cache per backend)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(f"{table}.{quote(str(f.column))}" for f in model._meta.concrete_fields)
    return f"SELECT {columns} FROM {table}"  # noqa: S608 (quoted model metadata only)


def _prepared(model: type[models.Model], name: str, value: Any) -> Any:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.get_db_prep_value(value, connection)


#: webhook id -> (monotonic expiry, the bot as read): see ``WEBHOOK_BOT_CACHE_SECONDS``.
_bots: dict[str, tuple[float, Bot]] = {}
#: A bound on the cache, for processes that serve very many bots: past it, it starts again empty.
MAX_CACHED_BOTS = 10_000


def bot_for_webhook(webhook_id: str) -> Bot | None:
    """The bot whose callback URL ends in ``webhook_id``, or ``None``.

    Kept for ``WEBHOOK_BOT_CACHE_SECONDS`` (a copy handed out each time, so
    nothing a request sets on it reaches the next one); every bot saved or
    deleted in this process empties the cache (:func:`forget_bots`).
    """
    if "\x00" in webhook_id:  # PostgreSQL refuses NUL in text; no bot has one
        return None
    ttl = float(app_settings.WEBHOOK_BOT_CACHE_SECONDS)
    if ttl > 0:
        cached = _bots.get(webhook_id)
        if cached is not None and cached[0] > time.monotonic():
            return copy.copy(cached[1])
    sql = f"{_select(Bot, connection.vendor)} WHERE {column(Bot, 'webhook_id')} = %s"
    found = list(Bot.objects.raw(sql, [_prepared(Bot, "webhook_id", webhook_id)]))
    if not found:
        return None
    if ttl > 0:
        if len(_bots) >= MAX_CACHED_BOTS:
            _bots.clear()
        _bots[webhook_id] = (time.monotonic() + ttl, copy.copy(found[0]))
    return found[0]


def forget_bots(**kwargs: Any) -> None:
    """Empty the webhook's bot cache (a receiver of ``post_save`` and ``post_delete`` of bots)."""
    _bots.clear()


def messages_statement(ids: Sequence[str], *, bot: Bot | None = None) -> tuple[str, list[Any]]:
    """``SELECT ... FOR UPDATE`` (where the database can) of the messages Sinch knows by ``ids``
    (only ``bot``'s when given), in pk order; its rows become models through :func:`messages_from_rows`."""
    params: list[Any] = list(ids)
    if bot is not None:
        params.append(_prepared(OutboundMessage, "bot", bot.pk))
    return _messages_sql(len(ids), bot is not None, connection.vendor), params


@functools.lru_cache(maxsize=64)
def _messages_sql(ids: int, of_one_bot: bool, vendor: str) -> str:
    placeholders = ", ".join(["%s"] * ids)
    where = f"{column(OutboundMessage, 'sinch_message_id')} IN ({placeholders})"
    if of_one_bot:
        where += f" AND {column(OutboundMessage, 'bot')} = %s"
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return f"{_select(OutboundMessage, connection.vendor)} WHERE {where} ORDER BY {column(OutboundMessage, 'id')}{lock}"


def messages_from_rows(rows: Sequence[Sequence[Any]]) -> list[OutboundMessage]:
    return _from_rows(OutboundMessage, rows)


@functools.cache
def _converters(model: type[models.Model], vendor: str) -> list[tuple[Any, list[Any]]]:
    """Each concrete field's column and its converters, as a compiled query applies them."""
    table = model._meta.db_table
    converters = []
    for field in model._meta.concrete_fields:
        col = field.get_col(table)
        converters.append((col, [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]))
    return converters


def _from_rows(model: type[M], rows: Sequence[Sequence[Any]]) -> list[M]:
    """Models from rows of :func:`_select` (every concrete field, in order), the fields' converters
    applied (encrypted secrets, JSON), without a QuerySet."""
    columns = _converters(model, connection.vendor)
    names = [f.attname for f in model._meta.concrete_fields]
    found = []
    for row in rows:
        values = list(row)
        for index, (col, converters) in enumerate(columns):
            for converter in converters:
                values[index] = converter(values[index], col, connection)
        found.append(model.from_db(connection.alias, names, values))
    return found


def contacts_with_numbers(bot: Bot, numbers: Sequence[str]) -> list[Contact]:
    """``bot``'s contacts whose E.164 number is one of ``numbers``."""
    if not numbers:
        return []
    placeholders = ", ".join(["%s"] * len(numbers))
    sql = (
        f"{_select(Contact, connection.vendor)} WHERE {column(Contact, 'bot')} = %s "
        f"AND {column(Contact, 'number')} IN ({placeholders})"
    )
    return list(Contact.objects.raw(sql, [_prepared(Contact, "bot", bot.pk), *numbers]))
