"""Sending through the services against the sandbox: batching, normalization, transport failures.

Most tests run once per transport (``kit``, tests/transport_kits.py): the standalone API takes 20
recipients per request, the Conversation API one; everything else (rows recorded first, the
outcome, errors, what is never re-sent) is the same."""

from __future__ import annotations

import logging

import pytest

from django_sinch_whatsapp import services
from django_sinch_whatsapp.client import messages
from django_sinch_whatsapp.exceptions import MessageValidationError
from django_sinch_whatsapp.models import OutboundMessage

from .conftest import TOKEN, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def send_text(*args, **kwargs):
    """These tests are not about the 24-hour window (tests/test_window.py is)."""
    return services.send_text(*args, allow_outside_window=True, **kwargs)


def send_message(*args, **kwargs):
    return services.send_message(*args, allow_outside_window=True, **kwargs)


def numbers(n, start=46732000000):
    return [str(start + i) for i in range(n)]


def message_posts(sandbox):
    return [r for r in sandbox.requests_log if r["method"] == "POST" and r["path"].endswith("/messages")]


def unpaced(bot):
    """No waiting for the rate limit (tests/test_ratelimit.py is about that): these tests are about requests."""
    bot.rate_limit = 10_000
    bot.save(update_fields=["rate_limit"])
    return bot


def test_45_recipients_make_requests_of_what_the_transport_takes_and_45_rows_with_own_ids(
    kit, any_transport_bot, fresh_sandbox
):
    outcome = send_text(unpaced(any_transport_bot), numbers(45), "Hello all")
    # whatsapp-message.md: 1 to 20 recipients per request; the Conversation API: one (docs README, "Send").
    expected = [20, 20, 5] if kit.per_request == 20 else [1] * 45
    sent = kit.sent_recipients(fresh_sandbox)
    assert [len(recipients) for recipients in sent] == expected
    assert [number for recipients in sent for number in recipients] == numbers(45)  # in order
    rows = OutboundMessage.objects.filter(bot=any_transport_bot)
    assert rows.count() == 45 == len(outcome.messages)
    ids = set(rows.values_list("sinch_message_id", flat=True))
    assert len(ids) == 45 and None not in ids
    assert set(rows.values_list("state", flat=True)) == {"queued"}
    assert rows.values("batch_id").distinct().count() == 3  # recorded in chunks of 20, whatever the wire takes


def test_invalid_number_is_rejected_per_number_and_valid_ones_sent(kit, any_transport_bot, fresh_sandbox):
    outcome = send_text(any_transport_bot, ["46732001122", "not-a-number", "+1 650 555 1234", "12"], "Hi")
    assert sorted(r.raw for r in outcome.rejected) == ["12", "not-a-number"]
    assert all(r.reason for r in outcome.rejected)
    assert sorted(m.recipient for m in outcome.messages) == ["16505551234", "46732001122"]
    sent = [number for recipients in kit.sent_recipients(fresh_sandbox) for number in recipients]
    assert sorted(sent) == ["16505551234", "46732001122"]


def test_duplicates_are_sent_once(kit, any_transport_bot, fresh_sandbox):
    outcome = send_text(any_transport_bot, ["46732001122", "+46732001122", "0046732001122"], "Hi")
    assert len(outcome.messages) == 1
    assert kit.sent_recipients(fresh_sandbox) == [["46732001122"]]


def test_group_ids_are_refused_as_recipients_by_default(sandbox_bot, fresh_sandbox):
    # release-notes-whatsapp.md, 2021-06-08: groups were removed; nothing is recorded or sent.
    outcome = send_text(sandbox_bot, ["group:46732001122-1590000000"], "Hi group")
    assert outcome.messages == []
    [rejected] = outcome.rejected
    assert "2021-06-08" in rejected.reason and "ALLOW_GROUP_RECIPIENTS" in rejected.reason
    assert message_posts(fresh_sandbox) == [] and OutboundMessage.objects.count() == 0


def test_group_ids_pass_through_when_the_project_opts_in(sandbox_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "ALLOW_GROUP_RECIPIENTS": True}
    outcome = send_text(sandbox_bot, ["group:46732001122-1590000000"], "Hi group")
    assert outcome.messages[0].recipient == "group:46732001122-1590000000"
    assert message_posts(fresh_sandbox)[0]["body"]["to"] == ["group:46732001122-1590000000"]


def test_invalid_message_records_and_sends_nothing(kit, any_transport_bot, fresh_sandbox):
    with pytest.raises(MessageValidationError) as info:
        send_message(any_transport_bot, ["46732001122"], {"type": "text", "text": "x" * 4097})
    assert info.value.field == "message.text" and "4096" in str(info.value) and "4097" in str(info.value)
    assert OutboundMessage.objects.count() == 0
    assert kit.sends(fresh_sandbox) == []


def test_callback_is_the_bots_webhook_when_public_base_url_is_set(kit, any_transport_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PUBLIC_BASE_URL": "https://api.example.com/"}
    send_text(any_transport_bot, ["46732001122"], "Hi")
    body = kit.sends(fresh_sandbox)[0]["body"]
    webhook = f"https://api.example.com/sinch-whatsapp/callbacks/{any_transport_bot.webhook_id}/"
    assert body[kit.callback_field] == webhook


def test_callback_given_by_the_caller_wins(kit, any_transport_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PUBLIC_BASE_URL": "https://api.example.com"}
    send_text(any_transport_bot, ["46732001122"], "Hi", callback_url="https://hooks.example.org/x")
    assert kit.sends(fresh_sandbox)[0]["body"][kit.callback_field] == "https://hooks.example.org/x"


def test_no_callback_field_without_public_base_url(kit, any_transport_bot, fresh_sandbox):
    send_text(any_transport_bot, ["46732001122"], "Hi")
    assert kit.callback_field not in kit.sends(fresh_sandbox)[0]["body"]


def test_read_timeout_on_send_is_not_resent_and_rows_are_unknown(kit, any_transport_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "READ_TIMEOUT": 0.3}
    fresh_sandbox.faults.slow_next(kit.requests_for(2), 0.6, path_contains=kit.send_suffix)
    outcome = send_text(any_transport_bot, ["46732001122", "46732001123"], "Hi")
    # The sandbox logs a slow request once it has answered it; each was sent once.
    assert wait_for(lambda: kit.send_count(fresh_sandbox) == kit.requests_for(2), timeout=5)
    assert [m.state for m in outcome.messages] == ["unknown", "unknown"]
    assert all("ReadTimeout" in m.error_details and "not re-sent" in m.error_details for m in outcome.messages)
    assert outcome.messages[0].error["hint"]


def test_dropped_connection_on_send_is_not_resent(kit, any_transport_bot, fresh_sandbox):
    fresh_sandbox.faults.drop_next(1, path_contains=kit.send_suffix)
    outcome = send_text(any_transport_bot, ["46732001122"], "Hi")
    assert outcome.messages[0].state == "unknown"
    assert wait_for(lambda: kit.send_count(fresh_sandbox) == 1, timeout=5)


def test_503_on_send_is_not_retried_because_it_reached_sinch(kit, any_transport_bot, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=503, path_contains=kit.send_suffix)
    outcome = send_text(any_transport_bot, ["46732001122"], "Hi")
    assert kit.send_count(fresh_sandbox) == 1
    assert outcome.messages[0].state == "error" and outcome.messages[0].error_status_code == 503


def test_429_on_send_is_retried_because_sinch_refused_it_unread(kit, any_transport_bot, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=429, path_contains=kit.send_suffix, retry_after=0)
    outcome = send_text(any_transport_bot, ["46732001122"], "Hi")
    assert kit.send_count(fresh_sandbox) == 2
    assert outcome.messages[0].state == "queued"


def test_retry_after_beyond_the_ceiling_is_not_slept_through(kit, any_transport_bot, fresh_sandbox, settings):
    import time

    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "RETRY_BACKOFF_MAX": 1.0}
    fresh_sandbox.faults.fail_next(1, status=429, path_contains=kit.send_suffix, retry_after=3600)
    started = time.monotonic()
    outcome = send_text(any_transport_bot, ["46732001122"], "Hi")
    assert time.monotonic() - started < 5
    assert outcome.errors[0].retry_after == 3600
    assert outcome.messages[0].state == "error" and outcome.messages[0].error_status_code == 429


def test_500_on_send_is_not_retried_and_recorded(kit, any_transport_bot, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=500, path_contains=kit.send_suffix)
    outcome = send_text(any_transport_bot, ["46732001122"], "Hi")
    assert kit.send_count(fresh_sandbox) == 1
    row = outcome.messages[0]
    assert row.state == "error" and row.error_status_code == 500
    assert outcome.errors[0].status_code == 500


def test_connection_refused_is_retried_then_recorded(kit, make_bot, settings, sandbox):
    import socket

    from .conversation_helpers import conversation_bot_values

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    if kit.name == "whatsapp":
        bot = make_bot(base_url_override=f"http://127.0.0.1:{port}/us1")
    else:  # the token endpoint is refused first: nothing can have been sent
        settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "CONVERSATION_TOKEN_BACKOFF_FACTOR": 0.01}
        bot = make_bot(**conversation_bot_values(sandbox, base_url_override=f"http://127.0.0.1:{port}/c/us"))
    outcome = send_text(bot, ["46732001122"], "Hi")
    row = outcome.messages[0]
    assert row.state == "error" and row.error_status_code is None
    assert "ConnectionError" in row.error_details


def test_http_debug_log_never_holds_a_secret(kit, any_transport_bot, fresh_sandbox, settings, caplog):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "LOG_HTTP": True}
    with caplog.at_level(logging.DEBUG, logger="django_sinch_whatsapp"):
        send_text(any_transport_bot, ["46732001122"], "Hi")
    assert "Sinch request" in caplog.text or "Bearer ********" in caplog.text  # the HTTP log really ran
    tokens = list(fresh_sandbox.conversation.state.tokens)  # the OAuth tokens the sandbox issued
    for secret in (TOKEN, kit.secret, *tokens):
        assert secret not in caplog.text
    if kit.name == "whatsapp":
        assert "Bearer ********" in caplog.text


#: Kinds only the standalone API can send: a sticker needs stickerpacks or media providers (legacy only).
LEGACY_ONLY_TYPES = {"sticker"}


def test_every_type_from_the_builders_is_accepted_by_the_sandbox(kit, any_transport_bot, fresh_sandbox):
    samples = [
        messages.text("Hi", preview_url=True),
        messages.template(
            "welcome", language="en_US", body_params=["Ann"], buttons=[{"type": "quick_reply", "payload": "p"}]
        ),
        messages.image("https://example.com/a.jpg", caption="A"),
        messages.video("https://example.com/a.mp4"),
        messages.document("https://example.com/a.pdf", filename="a.pdf"),
        messages.audio("https://example.com/a.mp3"),
        messages.location(55.7047, 13.191, name="Sinch"),
        messages.contacts(
            [{"name": {"formatted_name": "John Smith"}, "phones": [{"phone": "+1 650 555 1234", "type": "WORK"}]}]
        ),
        messages.sticker(url="https://example.com/s.webp"),
        messages.interactive_buttons("Pick", [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]),
        messages.interactive_list("Pick", "Open", [{"title": "S", "rows": [{"id": "r1", "title": "Row"}]}]),
    ]
    sent = 0
    for message in samples:
        if kit.name != "whatsapp" and message["type"] in LEGACY_ONLY_TYPES:
            with pytest.raises(MessageValidationError, match=r"(?i)conversation"):
                send_message(any_transport_bot, ["46732001122"], message)
            continue
        outcome = send_message(any_transport_bot, ["46732001122"], message)
        assert outcome.messages[0].state == "queued", (message["type"], outcome.messages[0].error)
        assert outcome.messages[0].message_type == message["type"]
        sent += 1
    assert kit.send_count(fresh_sandbox) == sent == len(samples) - (0 if kit.name == "whatsapp" else 1)
    assert OutboundMessage.objects.count() == sent  # a refused kind recorded nothing


def test_a_batch_is_sent_at_most_once_even_if_dispatched_twice(kit, any_transport_bot, fresh_sandbox, monkeypatch):
    from django.db import transaction

    from django_sinch_whatsapp import dispatch

    monkeypatch.setattr(dispatch.transaction, "on_commit", lambda func: None)  # dispatch by hand below
    with transaction.atomic():  # inside a caller's transaction: recorded unclaimed, dispatched by id (outbox path)
        outcome = send_text(any_transport_bot, ["46732001122"], "Hi")
    monkeypatch.undo()
    assert outcome.messages[0].dispatched_at is None
    batch_id = outcome.messages[0].batch_id
    # A second delivery of the same batch while the first is still in flight (a redelivered task).
    transport = type(dispatch.transport_for_bot(any_transport_bot))
    real_send = transport.send
    nested = []

    def send_and_redeliver(self, request):
        nested.append(dispatch.deliver_batch(batch_id))
        return real_send(self, request)

    monkeypatch.setattr(transport, "send", send_and_redeliver)
    first = dispatch.deliver_batch(batch_id)
    assert first.sent == 1 and nested[0].sent == 0
    assert kit.send_count(fresh_sandbox) == 1
    assert dispatch.deliver_batch(batch_id).sent == 0  # and again afterwards
    assert kit.send_count(fresh_sandbox) == 1


def test_send_queries_grow_with_requests_only(kit, any_transport_bot, fresh_sandbox):
    """Constant per request: one request for 20 recipients on the standalone API, one each on Conversation."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(n):
        with CaptureQueriesContext(connection) as captured:
            send_text(any_transport_bot, numbers(n, start=46733000000 + n * 100), "Hi")
        return len(captured)

    unpaced(any_transport_bot)  # no pacing: these are query counts, not rate limits
    queries(2)  # warm caches (content types, contacts)
    grown = queries(20) - queries(3)
    if kit.per_request == 20:
        assert grown == 0
    else:  # the answer to each request is written when it comes: a few statements per request
        per_request, remainder = divmod(grown, kit.requests_for(20) - kit.requests_for(3))
        # BEGIN, UPDATE, INSERT, COMMIT and the orphan SELECT on SQLite; WITH and SELECT on PostgreSQL.
        assert remainder == 0 and 1 <= per_request <= 5, grown


def transactions(captured_queries):
    """(write transactions, autocommitted reads, statements) from Django's query log (it has BEGIN/COMMIT too).

    A write outside BEGIN ... COMMIT runs in autocommit: a transaction of its own.
    """
    writes, reads, statements, inside = 0, 0, [], False
    # A query string of several statements (``BEGIN; ...; COMMIT; ...``, one round trip) counts as its statements.
    texts = [part for query in captured_queries for part in query["sql"].split("; ")]
    for text in texts:
        word = text.lstrip().split()[0].upper()
        if word == "BEGIN":
            inside, writes = True, writes + 1
        elif word == "COMMIT":
            inside = False
        else:
            statements.append(word)
            if not inside:
                if word == "SELECT":
                    reads += 1
                else:
                    writes += 1
    return writes, reads, statements


def test_one_text_to_a_known_contact_is_two_transactions_and_at_most_six_queries(kit, any_transport_bot, fresh_sandbox):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    send_text(any_transport_bot, ["46732001122"], "Hi")  # the contact exists from now on
    with CaptureQueriesContext(connection) as captured:
        outcome = send_text(any_transport_bot, ["46732001122"], "Hello again")
    writes, reads, statements = transactions(captured.captured_queries)
    # INSERT the row, claimed, its contact looked up by the same statement (its own transaction); the
    # POST; Sinch's answer (one transaction); then one read: reports that arrived before the Sinch id was stored.
    if connection.vendor == "postgresql":
        # The answer is one statement, WITH (UPDATE the row) INSERT its history entry, and the read
        # after its COMMIT goes in the same query string: two round trips in all.
        assert statements == ["INSERT", "WITH", "SELECT"]
        assert len(captured) == 2
        assert captured.captured_queries[1]["sql"].startswith("BEGIN; WITH ")
        assert "; COMMIT; SELECT 1 FROM " in captured.captured_queries[1]["sql"]
    else:
        assert statements == ["INSERT", "UPDATE", "INSERT", "SELECT"]
        assert len(captured) == 6  # with BEGIN and COMMIT around the answer
    assert len(statements) <= 6
    assert (writes, reads) == (2, 1)
    row = outcome.messages[0]
    assert row.state == "queued" and row.sinch_message_id and row.contact_id
    stored = OutboundMessage.objects.get(pk=row.pk)
    assert (stored.state, stored.sinch_message_id) == ("queued", row.sinch_message_id)
    assert stored.dispatched_at is not None and stored.state_changed_at is not None
    [event] = row.status_events.all()  # the answer to the send is the first history entry
    assert (event.state, event.sinch_message_id, event.raw["source"]) == (
        "queued",
        row.sinch_message_id,
        "send_response",
    )
    assert kit.send_count(fresh_sandbox) == 2


def test_bulk_queries_are_constant_per_batch_of_20(kit, any_transport_bot, fresh_sandbox):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(n, start):
        with CaptureQueriesContext(connection) as captured:
            outcome = send_text(any_transport_bot, numbers(n, start=start), "Hi")
        assert outcome.sent == n
        return len(captured)

    unpaced(any_transport_bot)  # no pacing: these are query counts, not rate limits
    queries(20, 46734000000)  # warm caches
    per_batch = queries(20, 46735000000)  # new contacts: SELECT, INSERT, SELECT, INSERT rows, then the answer(s)
    assert queries(40, 46736000000) == 2 * per_batch
    if kit.per_request == 20:  # more one-recipient requests would only repeat the point, slowly
        assert queries(200, 46737000000) == 10 * per_batch


def test_bulk_recipients_are_streamed_chunk_by_chunk_and_the_outcome_stays_bounded(sandbox_bot, fresh_sandbox):
    from django_sinch_whatsapp.services import sending

    posts_seen_at = {}

    def recipients():
        for index in range(1_100):
            if index % 100 == 0:
                posts_seen_at[index] = fresh_sandbox.count("POST", "/messages")
            yield str(46738000000 + index)
            if index % 7 == 0:
                yield f"bad-{index}"  # 158 invalid ones along the way

    outcome = send_text(sandbox_bot, recipients(), "Hi")
    # Read lazily: when the generator reached recipient 1,000, the first 50 batches had already gone out.
    assert posts_seen_at[0] == 0 and posts_seen_at[1_000] >= 49
    assert fresh_sandbox.count("POST", "/messages") == 55
    assert (outcome.accepted, outcome.sent, outcome.rejected_count) == (1_100, 1_100, 158)
    assert len(outcome.rejected) == sending.KEPT_REJECTIONS and outcome.rejected[0].raw == "bad-0"
    assert outcome.kept_rows is None  # over KEPT_ROWS: nothing holds the rows; the queryset has them all
    assert outcome.queryset.count() == 1_100 and outcome.queryset.filter(state="queued").count() == 1_100
    assert len(outcome.messages) == 1_100  # read from the database on demand, in recipient order
    assert outcome.messages[0].recipient == "46738000000"


def test_a_recipient_repeated_across_chunks_is_sent_once(kit, any_transport_bot, fresh_sandbox):
    numbers_twice = [*numbers(30, start=46739000000), "+46739000001", "0046739000029"]
    outcome = send_text(unpaced(any_transport_bot), iter(numbers_twice), "Hi")
    assert outcome.accepted == 30 and OutboundMessage.objects.filter(send_id=outcome.send_id).count() == 30
    assert sum(len(recipients) for recipients in kit.sent_recipients(fresh_sandbox)) == 30


def test_an_empty_iterable_of_recipients_is_refused(any_transport_bot, fresh_sandbox):
    with pytest.raises(MessageValidationError) as info:
        send_text(any_transport_bot, iter([]), "Hi")
    assert info.value.field == "to" and info.value.limit == 1


@pytest.mark.parametrize("combined", [True, False], ids=["read-in-the-answers-query", "read-on-its-own"])
def test_a_report_stored_before_the_sinch_id_is_attached_by_the_send(
    any_transport_bot, fresh_sandbox, monkeypatch, combined
):
    """The webhook may store a report for the id while the answer is on its way: the send attaches it.

    On PostgreSQL the read after the answer's commit travels in the answer's query string; without
    combined statements (SQLite, server-side binding) it is a query of its own."""
    from django_sinch_whatsapp import answers, dispatch
    from django_sinch_whatsapp.models import StatusEvent

    if not combined:
        monkeypatch.setattr(answers, "can_combine", lambda using="default": False)

    transport = type(dispatch.transport_for_bot(any_transport_bot))
    real_send = transport.send

    def send_then_report_arrives(self, request):
        sent = real_send(self, request)
        StatusEvent.objects.create(bot=any_transport_bot, sinch_message_id=sent[0].message_id, state="delivered")
        return sent

    monkeypatch.setattr(transport, "send", send_then_report_arrives)
    outcome = send_text(any_transport_bot, ["46732001122"], "Hi")
    row = OutboundMessage.objects.get(pk=outcome.messages[0].pk)
    assert row.state == "delivered"
    assert sorted(row.status_events.values_list("state", flat=True)) == ["delivered", "queued"]


def test_a_sinch_id_another_row_holds_errors_that_row_only(any_transport_bot, fresh_sandbox, monkeypatch):
    import dataclasses

    from django_sinch_whatsapp import dispatch

    OutboundMessage.objects.create(
        bot=any_transport_bot,
        recipient="46732001130",
        message_type="text",
        payload={},
        sinch_message_id="ALREADY-HELD",
    )
    transport = type(dispatch.transport_for_bot(any_transport_bot))
    real_send = transport.send
    calls = []

    def answer_with_a_held_id(self, request):
        sent = real_send(self, request)
        calls.append(request)
        if len(calls) > 1:  # the first request's first recipient gets the id another row holds
            return sent
        return [dataclasses.replace(sent[0], message_id="ALREADY-HELD"), *sent[1:]]

    monkeypatch.setattr(transport, "send", answer_with_a_held_id)
    outcome = send_text(any_transport_bot, ["46732001131", "46732001132"], "Hi")
    first, second = (OutboundMessage.objects.get(pk=m.pk) for m in outcome.messages)
    assert first.state == "error" and first.sinch_message_id is None and "ALREADY-HELD" in first.error_details
    assert second.state == "queued" and second.sinch_message_id and outcome.sent == 1
    assert second.status_events.get().state == "queued"


@pytest.mark.postgres_only
@pytest.mark.parametrize("rollback_works", [True, False], ids=["rolled-back", "rollback-fails"])
def test_a_failed_answer_inside_its_own_begin_leaves_no_open_block(monkeypatch, caplog, rollback_works):
    """The answer's query string opens its own BEGIN: after a failure the server holds a failed block
    until a ROLLBACK, which is sent; a rollback that fails too is logged and never hides the first error."""
    from django.db import DatabaseError, connection
    from psycopg.pq import TransactionStatus

    from django_sinch_whatsapp import answers

    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        try:
            cursor.execute("BEGIN; SELECT 1 / 0")
        finally:
            raw = connection.connection
            assert raw.info.transaction_status == TransactionStatus.INERROR
            if not rollback_works:
                real_rollback = raw.rollback

                def lost():
                    raise OSError("connection lost")

                monkeypatch.setattr(raw, "rollback", lost)
            with caplog.at_level(logging.WARNING, logger="django_sinch_whatsapp.dispatch"):
                answers._end_failed_block()
    if rollback_works:
        assert raw.info.transaction_status == TransactionStatus.IDLE and not caplog.records
    else:
        assert "Could not roll back" in caplog.text
        real_rollback()
    with connection.cursor() as cursor:  # the connection is usable again
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
