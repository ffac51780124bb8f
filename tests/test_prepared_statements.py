"""The webhook's statements prepared once per connection (django_sinch_whatsapp/prepared.py), on PostgreSQL:
what travels, when it is prepared again, and that a server that lost them costs a retry, not a callback."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from django_sinch_whatsapp import prepared
from django_sinch_whatsapp.models import CallbackEvent, MessageState, OutboundMessage, StatusEvent

from .webhook_helpers import signed_headers, status_payload
from .wire_trace import wire_trace

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def fresh_record(monkeypatch):
    """Each test starts from a connection with nothing prepared, and a process that still prepares."""
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection.__dict__.pop("_sinch_wa_prepared", None)
    monkeypatch.setattr(prepared, "_lost", 0)


def post(client, bot, sinch_id: str, state: str = "delivered"):
    body = json.dumps(status_payload(sinch_id, state)).encode()
    with wire_trace() as trace:
        answer = client.post(bot.callback_path, data=body, content_type="application/json", **signed_headers(body))
    assert answer.status_code == 200, answer.content
    return trace.queries


def sent(bot, n: int) -> list[OutboundMessage]:
    return [
        OutboundMessage.objects.create(
            bot=bot,
            recipient="46732001122",
            message_type="text",
            payload={},
            sinch_message_id=f"p-{i}",
            state=MessageState.QUEUED,
        )
        for i in range(n)
    ]


def server_prepared() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'sinch_wa_p%%'")
        return {row[0] for row in cursor.fetchall()}


def test_prepared_on_first_use_then_only_executed(client, bot):
    sent(bot, 3)
    first, second, third = (post(client, bot, f"p-{i}") for i in range(3))
    batch = next(q for q in first if "INSERT" in q)
    assert batch.count("PREPARE sinch_wa_p") == 2, batch  # the callback's INSERT and the reports' statement
    assert not any("PREPARE" in q for q in second + third)
    assert len(server_prepared()) == 2
    assert OutboundMessage.objects.filter(state="delivered").count() == 3


def test_prepared_again_after_max_uses_and_the_old_one_released(client, bot, monkeypatch):
    monkeypatch.setattr(prepared, "MAX_USES", 2)
    sent(bot, 4)
    traces = [post(client, bot, f"p-{i}") for i in range(4)]
    before = server_prepared()
    assert not any("PREPARE" in q for q in traces[1])
    renewed = next(q for q in traces[2] if "EXECUTE" in q)
    assert renewed.count("DEALLOCATE sinch_wa_p") == 2 and renewed.count("PREPARE sinch_wa_p") == 2, renewed
    assert len(before) == 2  # the first two released, two new ones
    assert OutboundMessage.objects.filter(state="delivered").count() == 4


def test_statements_the_server_lost_are_prepared_again_and_nothing_is_lost(client, bot):
    sent(bot, 2)
    post(client, bot, "p-0")
    with connection.cursor() as cursor:  # what a pooler or DISCARD ALL does behind the connection's back
        cursor.execute("DEALLOCATE ALL")
    queries = post(client, bot, "p-1")
    assert sum("EXECUTE sinch_wa_p" in q for q in queries) == 2, queries  # lost, then prepared anew
    assert CallbackEvent.objects.count() == 2 and StatusEvent.objects.count() == 2
    assert OutboundMessage.objects.filter(state="delivered").count() == 2
    assert len(server_prepared()) == 2


def test_after_max_lost_the_process_stops_preparing_and_says_so(client, bot, caplog):
    sent(bot, prepared.MAX_LOST + 2)
    post(client, bot, "p-0")
    with caplog.at_level(logging.WARNING, logger="django_sinch_whatsapp.prepared"):
        for i in range(1, prepared.MAX_LOST + 1):
            with connection.cursor() as cursor:
                cursor.execute("DEALLOCATE ALL")
            post(client, bot, f"p-{i}")
    assert [r.getMessage() for r in caplog.records if "lost" in r.getMessage()], caplog.text
    queries = post(client, bot, f"p-{prepared.MAX_LOST + 1}")
    assert not any("EXECUTE" in q or "PREPARE" in q for q in queries), queries
    assert OutboundMessage.objects.filter(state="delivered").count() == prepared.MAX_LOST + 2


def test_a_query_string_that_failed_leaves_nothing_remembered(bot):
    from django.db import DataError, transaction

    from django_sinch_whatsapp.roundtrips import execute_together

    preparing = prepared.Preparing()
    statements = preparing.statements(("SELECT %s::integer / %s::integer", [1, 0]))
    assert statements[0][0].startswith("PREPARE sinch_wa_p")
    with pytest.raises(DataError), transaction.atomic():
        execute_together(statements)
    assert prepared._kept(connection) == {}
    again = prepared.Preparing().statements(("SELECT %s::integer / %s::integer", [1, 1]))
    assert again[0][0].startswith("PREPARE sinch_wa_p") and again[0][0] != statements[0][0]  # a new name


def test_the_setting_turns_preparing_off(client, bot, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PREPARED_STATEMENTS": False}
    sent(bot, 1)
    queries = post(client, bot, "p-0")
    assert not any("EXECUTE" in q or "PREPARE" in q for q in queries), queries
    assert OutboundMessage.objects.get().state == "delivered"
