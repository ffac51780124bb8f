"""Issue 9 item 2: a callback costs a constant number of queries whatever it holds.

Counted at 1, 20 and 200 entries for each shape, on SQLite and PostgreSQL:
``apply_parsed`` (what processing costs) and the whole webhook request.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction

from django_sinch_whatsapp.callbacks.parsing import parse_callback
from django_sinch_whatsapp.callbacks.processing import apply_parsed
from django_sinch_whatsapp.models import (
    CallbackEvent,
    Contact,
    InboundMessage,
    MessageState,
    OutboundMessage,
    StatusEvent,
)

from .webhook_helpers import signed_headers

pytestmark = pytest.mark.django_db

SIZES = [1, 20, 200]

#: Processing only (inside the callback's transaction), SQLite: statuses are SELECT ... FOR UPDATE, INSERT
#: history, UPDATE states; unknown ids add one SELECT for rows whose outcome was unknown (and no
#: UPDATE, nothing moves); inbound is the contact upsert and the message insert.
PROCESSING = {"statuses": 3, "unknown": 3, "inbound": 2, "mixed": 5}
#: The whole request adds: SELECT the bot, INSERT the callback, SAVEPOINT (never released: COMMIT
#: does); unknown ids add the check after commit for a send that saved them meanwhile.
#: (The test's own transaction turns the view's BEGIN into one more SAVEPOINT/RELEASE pair.)
REQUEST = {"statuses": 3 + 3, "unknown": 3 + 3 + 1, "inbound": 3 + 2, "mixed": 3 + 5}
IN_TEST_TRANSACTION = 2


def sent_with_the_insert(shape: str, *, moves: bool = True) -> int:
    """Statements (as SQLite counts them) that travel in the callback INSERT's query on PostgreSQL
    (one round trip, tests/test_roundtrips.py): the SAVEPOINT and, when the callback holds reports
    naming each message once, all of their work, which is one statement there
    (callbacks/reports_sql.py): the messages' SELECT ... FOR UPDATE, the history INSERT and, when
    messages move, the state UPDATE. SQLite's ``execute()`` takes one statement."""
    if connection.vendor != "postgresql":
        return 0
    if shape in ("statuses", "mixed"):
        return 4 if moves else 3
    return 3 if shape == "unknown" else 1


def moving(shape: str) -> int:
    """Statements saved when messages move: on PostgreSQL the history INSERT and the state UPDATE
    are one statement (a data-modifying ``WITH``); SQLite runs the two."""
    return 1 if shape in ("statuses", "mixed") and connection.vendor == "postgresql" else 0


def make_messages(bot, n: int) -> None:
    OutboundMessage.objects.bulk_create(
        OutboundMessage(
            bot=bot,
            recipient=f"4673200{i:04d}",
            message_type="text",
            payload={},
            sinch_message_id=f"known-{i}",
            state=MessageState.QUEUED,
        )
        for i in range(n)
    )


def payload_for(bot, shape: str, n: int) -> dict:
    payload: dict = {"type": "whatsapp"}
    if shape in ("statuses", "mixed"):
        payload["statuses"] = [
            {"status": "success", "state": "delivered", "message_id": f"known-{i}", "recipient": f"+4673200{i:04d}"}
            for i in range(n)
        ]
    if shape == "unknown":
        payload["statuses"] = [
            {"status": "success", "state": "delivered", "message_id": f"nobody-{i}", "recipient": f"+4673300{i:04d}"}
            for i in range(n)
        ]
    if shape in ("inbound", "mixed"):
        payload["contacts"] = [{"wa_id": f"4674400{i:04d}", "profile": {"name": f"P{i}"}} for i in range(n)]
        payload["notifications"] = [
            {
                "from": f"4674400{i:04d}",
                "to": bot.sinch_bot_id,
                "message_id": f"in-{i}",
                "message": {"type": "text", "body": f"hi {i}"},
                "timestamp": "2020-05-02T19:48:42Z",
            }
            for i in range(n)
        ]
    return payload


def check_effects(shape: str, n: int) -> None:
    if shape in ("statuses", "mixed"):
        assert OutboundMessage.objects.filter(state="delivered").count() == n
    if shape in ("statuses", "mixed", "unknown"):
        assert StatusEvent.objects.count() == n
    if shape == "unknown":
        assert not StatusEvent.objects.filter(message__isnull=False).exists()
    if shape in ("inbound", "mixed"):
        assert InboundMessage.objects.count() == n
        assert Contact.objects.filter(last_inbound_at__isnull=False, profile_name__startswith="P").count() == n


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("shape", list(PROCESSING))
def test_processing_queries_are_constant(bot, django_assert_num_queries, shape, n):
    make_messages(bot, n)
    parsed = parse_callback(payload_for(bot, shape, n))
    with transaction.atomic(), django_assert_num_queries(PROCESSING[shape] - moving(shape)):
        apply_parsed(bot, parsed)
    check_effects(shape, n)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("shape", list(REQUEST))
def test_webhook_request_queries_are_constant(client, bot, django_assert_num_queries, shape, n):
    make_messages(bot, n)
    body = json.dumps(payload_for(bot, shape, n)).encode()
    with django_assert_num_queries(REQUEST[shape] - sent_with_the_insert(shape) + IN_TEST_TRANSACTION):
        response = client.post(bot.callback_path, data=body, content_type="application/json", **signed_headers(body))
    assert response.status_code == 200, response.content
    assert CallbackEvent.objects.get().processing_state == "processed"
    check_effects(shape, n)


def test_a_repeated_callback_costs_the_same_and_changes_nothing(client, bot, django_assert_num_queries):
    make_messages(bot, 20)
    body = json.dumps(payload_for(bot, "mixed", 20)).encode()
    client.post(bot.callback_path, data=body, content_type="application/json", **signed_headers(body))
    # A fresh nonce (a re-signed duplicate): stored again, every effect already there. Nothing moves
    # (no UPDATE of states); history that conflicted is re-attached to its message in one UPDATE
    # (it may have been stored as an orphan). The bot is the one the first request read
    # (WEBHOOK_BOT_CACHE_SECONDS): no SELECT of it. So one less than the first on SQLite; on
    # PostgreSQL the reports' statement travels with the INSERT as before.
    expected = REQUEST["mixed"] - 1 - sent_with_the_insert("mixed", moves=False) + IN_TEST_TRANSACTION
    with django_assert_num_queries(expected):
        response = client.post(bot.callback_path, data=body, content_type="application/json", **signed_headers(body))
    assert response.status_code == 200
    check_effects("mixed", 20)


#: What the client sends PostgreSQL for one callback outside any test transaction, one query message
#: (one round trip) each: [BEGIN; INSERT the callback; SAVEPOINT; the reports' one statement (lock,
#: history, states); COMMIT] when nothing listens to the reports' signals and the callback holds
#: nothing else; with a receiver connected, COMMIT goes alone after the receivers ran. Inbound has
#: no messages to lock or move: its contacts' upsert and its messages' INSERT follow the first.
ROUND_TRIPS = {"statuses": 1, "inbound": 4, "mixed": 4}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("n", [1, 200])
@pytest.mark.parametrize("shape", [*ROUND_TRIPS, "statuses-with-a-receiver"])
def test_round_trips_of_a_callback_on_postgresql(client, bot, shape, n):
    from django_sinch_whatsapp import signals
    from django_sinch_whatsapp.savepoints import FIRST

    seen_in_transaction = []
    if shape == "statuses-with-a-receiver":
        shape, expected = "statuses", 2

        def receiver(**kwargs):  # runs inside the callback's transaction, before its COMMIT
            seen_in_transaction.append(connection.connection.info.transaction_status.name)

        signals.message_status_changed.connect(receiver, dispatch_uid="round-trips", weak=False)
    else:
        expected = ROUND_TRIPS[shape]
    try:
        first, second = _two_callbacks(client, bot, shape, n)
    finally:
        signals.message_status_changed.disconnect(dispatch_uid="round-trips")
    assert len(second) == expected, second
    # The callback's INSERT (and the reports' statement) prepared once per connection (prepared.py):
    # by now they are, so only their EXECUTE travels.
    assert second[0].startswith("BEGIN; EXECUTE sinch_wa_p") and f'SAVEPOINT "{FIRST}"' in second[0], second
    assert second[-1] in ("COMMIT", second[0]) and not any("PREPARE" in q for q in second), second
    assert second[-1].endswith("COMMIT"), second
    if shape != "inbound":  # the reports' statement is prepared for few reports only (PREPARED_UP_TO)
        assert second[0].count("EXECUTE sinch_wa_p") == (2 if n <= 20 else 1), second[0]
    # The first request also read the bot (WEBHOOK_BOT_CACHE_SECONDS keeps it for the second).
    assert first[0].startswith("SELECT") and len(first) == len(second) + 1, (first, second)
    if seen_in_transaction:
        assert set(seen_in_transaction) == {"INTRANS"} and len(seen_in_transaction) == 2 * n


def _two_callbacks(client, bot, shape: str, n: int) -> tuple[list[str], list[str]]:
    from .wire_trace import wire_trace

    make_messages(bot, n)
    sent = []
    for state in ("delivered", "read"):  # the second: the same statements again, the bot from the cache
        payload = payload_for(bot, shape, n)
        for entry in payload.get("statuses", []):
            entry["state"] = state
        for entry in payload.get("notifications", []):
            entry["message_id"] += state
        body = json.dumps(payload).encode()
        with wire_trace() as trace:
            response = client.post(
                bot.callback_path, data=body, content_type="application/json", **signed_headers(body)
            )
        assert response.status_code == 200, response.content
        sent.append(trace.queries)
    first, second = sent
    return first, second
