"""Issue 7 item 2 and issue 9 item 1: a verified body is stored (2xx) or refused (4xx), never a 5xx,
and it is stored and applied in one transaction.

Run on SQLite and PostgreSQL (jsonb refuses NUL and lone surrogates; columns have lengths).
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_sinch_whatsapp import signals
from django_sinch_whatsapp.callbacks.processing import process_callback_event
from django_sinch_whatsapp.models import CallbackEvent, InboundMessage, MessageState, OutboundMessage, StatusEvent

from .webhook_helpers import inbound_text_payload, signed_headers, status_payload

pytestmark = pytest.mark.django_db


def post_body(client, bot, body: bytes, *, nonce: str | None = None):
    return client.post(
        bot.callback_path, data=body, content_type="application/json", **signed_headers(body, nonce=nonce)
    )


@pytest.fixture
def known(bot):
    return OutboundMessage.objects.create(
        bot=bot,
        recipient="46732001122",
        message_type="text",
        payload={},
        sinch_message_id="known-1",
        state=MessageState.QUEUED,
    )


def status_entry(message_id: str, state: str = "delivered") -> str:
    return json.dumps({"status": "success", "state": state, "message_id": message_id, "recipient": "+46732001122"})


def test_100000_deep_nesting_is_stored_as_uninterpretable_with_its_raw_bytes(client, bot):
    body = b"[" * 100_000 + b"]" * 100_000
    response = post_body(client, bot, body)
    assert response.status_code == 200, response.content
    event = CallbackEvent.objects.get()
    assert bytes(event.body) == body
    assert event.payload is None and event.processing_state == "uninterpreted"
    assert "too deep" in event.processing_error and event.anomalies


def test_deep_entry_beside_readable_status_is_cut_and_the_status_applied(client, bot, known):
    deep = "[" * 500 + "]" * 500
    body = (
        '{"type": "whatsapp", "statuses": [{"message_id": "x", "state": "sent", "details": '
        + deep
        + "}, "
        + status_entry("known-1")
        + "]}"
    ).encode()
    assert post_body(client, bot, body).status_code == 200
    known.refresh_from_db()
    assert known.state == "delivered"
    assert any("nested deeper" in a for a in CallbackEvent.objects.get().anomalies)


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_numbers_json_cannot_store_are_replaced_flagged_and_siblings_applied(client, bot, known, constant):
    body = (
        b'{"type": "whatsapp", "statuses": [{"message_id": "other", "state": "sent", "details": '
        + constant
        + b"}, "
        + status_entry("known-1").encode()
        + b"]}"
    )
    response = post_body(client, bot, body)
    assert response.status_code == 200, response.content
    event = CallbackEvent.objects.get()
    assert bytes(event.body) == body
    assert event.payload["statuses"][0]["details"] is None
    assert any("not a storable JSON number" in a for a in event.anomalies)
    known.refresh_from_db()
    assert known.state == "delivered"


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udfff"])
def test_nul_and_lone_surrogates_are_replaced_and_the_message_kept(client, bot, escape):
    payload = json.dumps(inbound_text_payload("in-odd", "hello")).replace("hello", f"hel{escape}lo")
    body = payload.encode()
    response = post_body(client, bot, body)
    assert response.status_code == 200, response.content
    event = CallbackEvent.objects.get()
    assert bytes(event.body) == body and event.processing_state == "processed"
    assert InboundMessage.objects.get().text == "hel\ufffdlo"
    assert any("U+FFFD" in a for a in event.anomalies)


def test_nonce_longer_than_its_column_is_stored_and_still_deduplicated(client, bot):
    body = json.dumps(status_payload("m", "sent")).encode()
    nonce = "n" * 5000
    assert post_body(client, bot, body, nonce=nonce).status_code == 200
    again = post_body(client, bot, body, nonce=nonce)
    assert again.status_code == 200 and again.json()["detail"] == "Already received."
    event = CallbackEvent.objects.get()
    assert len(event.nonce) == 200 and event.headers["sinch-whatsapp-callback-signature-nonce"] == nonce
    assert any("nonce of 5000 characters" in a for a in event.anomalies)


def test_ids_too_long_for_their_columns_are_flagged_and_never_roll_back_siblings(client, bot, known):
    payload = {
        "type": "whatsapp",
        "statuses": [
            {"state": "sent", "message_id": "s" * 101, "recipient": "+46732001122"},
            json.loads(status_entry("known-1")),
        ],
        "notifications": [
            {
                "from": "46732001122",
                "to": bot.sinch_bot_id,
                "message_id": "i" * 201,
                "message": {"type": "text", "body": "a"},
            },
            {
                "from": "46732001122",
                "to": bot.sinch_bot_id,
                "message_id": "in-ok",
                "message": {"type": "text", "body": "b"},
            },
        ],
    }
    body = json.dumps(payload).encode()
    response = post_body(client, bot, body)
    assert response.status_code == 200, response.content
    known.refresh_from_db()
    assert known.state == "delivered"
    assert list(InboundMessage.objects.values_list("sinch_message_id", flat=True)) == ["in-ok"]
    assert list(StatusEvent.objects.values_list("sinch_message_id", flat=True)) == ["known-1"]
    event = CallbackEvent.objects.get()
    assert event.processing_state == "processed" and "2 entries not understood" in event.processing_error
    assert any("over 100 characters" in a for a in event.anomalies)
    assert any("over 200 characters" in a for a in event.anomalies)
    assert bytes(event.body) == body


def test_same_nonce_other_body_is_stored_and_flagged(client, bot, known):
    first = json.dumps(status_payload("known-1", "sent")).encode()
    second = json.dumps(status_payload("known-1", "delivered")).encode()
    assert post_body(client, bot, first, nonce="shared-nonce").status_code == 200
    response = post_body(client, bot, second, nonce="shared-nonce")
    assert response.status_code == 200 and "nonce already used" in response.json()["detail"]
    assert post_body(client, bot, second, nonce="shared-nonce").json()["detail"] == "Already received."
    rows = list(CallbackEvent.objects.order_by("received_at"))
    assert [r.nonce_reused for r in rows] == [False, True]
    known.refresh_from_db()
    assert known.state == "delivered"


def test_the_body_limit_is_ours_not_djangos(client, bot, settings):
    """A callback of 2,000 statuses fits the default limit, whatever DATA_UPLOAD_MAX_MEMORY_SIZE says."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    payload = {
        "type": "whatsapp",
        "statuses": [json.loads(status_entry(f"01DPNXZ0WCF9XD19MH84X{i:05d}")) for i in range(2_000)],
    }
    body = json.dumps(payload).encode()
    assert len(body) < 1_048_576
    response = post_body(client, bot, body)
    assert response.status_code == 200, response.content
    assert StatusEvent.objects.count() == 2_000
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "MAX_CALLBACK_BODY_BYTES": 1_000}
    refused = post_body(client, bot, body)
    assert refused.status_code == 400
    assert "MAX_CALLBACK_BODY_BYTES" in refused.json()["detail"] and "1000" in refused.json()["detail"]
    assert CallbackEvent.objects.count() == 1


def test_refusal_answers_say_why(client, bot):
    not_json = post_body(client, bot, b"{nope")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["detail"]
    body = json.dumps(status_payload("m", "sent")).encode()
    forged = client.post(bot.callback_path, data=body, content_type="application/json", **signed_headers(body, "bad"))
    assert forged.status_code == 403 and "does not match" in forged.json()["detail"]
    assert CallbackEvent.objects.count() == 0


def _as_run(sql: str) -> list[str]:
    """The statements of one query string as the server ran them. On PostgreSQL the transaction's
    BEGIN travels with the INSERT (django_sinch_whatsapp.roundtrips), and the INSERT is prepared
    once per connection (django_sinch_whatsapp.prepared): an ``EXECUTE`` runs its prepared text."""
    statements = [s.strip() for s in sql.split("; ") if s.strip() and s.strip().upper() != "BEGIN"]
    if connection.vendor != "postgresql":
        return statements
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        # ``statement`` is the whole query string that held the PREPARE.
        texts = {name: text.split(f"PREPARE {name} AS ", 1)[-1].split("; ")[0] for name, text in cursor.fetchall()}
    run = []
    for statement in statements:
        if statement.upper().startswith("PREPARE "):
            continue  # not run: its EXECUTE is
        if statement.upper().startswith("EXECUTE "):
            statement = texts[statement.split()[1].split("(")[0]]
        run.append(statement)
    return run


@pytest.mark.django_db(transaction=True)
def test_one_transaction_row_says_processed_without_a_second_write(client, bot, known):
    body = json.dumps(status_payload("known-1", "delivered")).encode()
    with CaptureQueriesContext(connection) as queries:
        assert post_body(client, bot, body).status_code == 200
    table = CallbackEvent._meta.db_table
    statements = [s for q in queries for s in _as_run(q["sql"])]
    writes = [s for s in statements if table in s and not s.upper().startswith("SELECT")]
    assert len(writes) == 1 and writes[0].upper().startswith("INSERT"), statements
    assert sum("SAVEPOINT" in q["sql"] and "RELEASE" not in q["sql"] for q in queries) == 1, [q["sql"] for q in queries]


def test_failure_rolls_back_to_the_savepoint_keeps_the_row_and_the_retry_reprocesses_it(client, bot, known):
    body = json.dumps(status_payload("known-1", "read")).encode()

    def boom(**kwargs):
        raise RuntimeError("receiver bug")

    signals.status_received.connect(boom, dispatch_uid="savepoint-boom")
    try:
        assert post_body(client, bot, body, nonce="retry-me").status_code == 500
    finally:
        signals.status_received.disconnect(dispatch_uid="savepoint-boom")
    event = CallbackEvent.objects.get()
    assert event.processing_state == "failed" and "Traceback" in event.processing_error
    assert StatusEvent.objects.count() == 0
    known.refresh_from_db()
    assert known.state == "queued"
    retry = post_body(client, bot, body, nonce="retry-me")  # Sinch's retry: same nonce, same body
    assert retry.status_code == 200
    event.refresh_from_db()
    assert (event.processing_state, event.attempts) == ("processed", 2)
    known.refresh_from_db()
    assert known.state == "read"
    assert process_callback_event(event) == "processed"  # idempotent
    assert StatusEvent.objects.count() == 1


def test_reports_with_details_move_the_message_and_keep_the_details(client, bot, known):
    """Found by the fuzz test: the set-based UPDATE mixed a text value with a text column's type."""
    payload = status_payload("known-1", "failed", status="failure")
    payload["statuses"][0]["details"] = "Recipient is not a WhatsApp user"
    assert post_body(client, bot, json.dumps(payload).encode()).status_code == 200
    known.refresh_from_db()
    assert (known.state, known.sinch_status, known.state_details) == (
        "failed",
        "failure",
        "Recipient is not a WhatsApp user",
    )
