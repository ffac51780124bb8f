"""The hot paths' reads, with their SQL built once per process.

Compiling an ORM query costs more than PostgreSQL takes to answer it: on the
bench machine ``Bot.objects.filter(webhook_id=...).first()`` took 1.7 ms where
the same SELECT through ``raw()`` took 0.55 ms, and the messages' ``SELECT ...
FOR UPDATE`` 2.7 ms against 1.1 ms (bench/RESULTS.md, "Session 4"). Every
callback pays the bot and the messages, every send its recipients' contacts,
so those reads are written here once, from the models' own metadata, and run
through ``raw()``, which still applies each field's converters (encrypted
secrets, JSON).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from .callbacks.bulk import column
from .models import Bot, Contact, OutboundMessage


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


def bot_for_webhook(webhook_id: str) -> Bot | None:
    """The bot whose callback URL ends in ``webhook_id``, or ``None``."""
    if "\x00" in webhook_id:  # PostgreSQL refuses NUL in text; no bot has one
        return None
    sql = f"{_select(Bot, connection.vendor)} WHERE {column(Bot, 'webhook_id')} = %s"
    found = list(Bot.objects.raw(sql, [_prepared(Bot, "webhook_id", webhook_id)]))
    return found[0] if found else None


def messages_with_sinch_ids(ids: Sequence[str], *, bot: Bot | None = None) -> list[OutboundMessage]:
    """The messages Sinch knows by ``ids`` (only ``bot``'s when given), in pk order, locked for the
    transaction where the database can (``SELECT ... FOR UPDATE``)."""
    if not ids:
        return []
    placeholders = ", ".join(["%s"] * len(ids))
    where = f"{column(OutboundMessage, 'sinch_message_id')} IN ({placeholders})"
    params: list[Any] = list(ids)
    if bot is not None:
        where += f" AND {column(OutboundMessage, 'bot')} = %s"
        params.append(_prepared(OutboundMessage, "bot", bot.pk))
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"{_select(OutboundMessage, connection.vendor)} WHERE {where} ORDER BY {column(OutboundMessage, 'id')}{lock}"
    return list(OutboundMessage.objects.raw(sql, params))


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
