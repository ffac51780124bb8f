"""A missed webhook does not leave a message unresolved: reconciliation asks Sinch and re-dispatches.

The standalone API's callback store replays a message's delivery reports; the Conversation API's
``GET /messages/{id}`` only says it was accepted (tests/test_conversation_operations.py). What
reconciliation does with rows never sent, or never finished, is the same for both transports (``kit``).
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from django_sinch_whatsapp import services
from django_sinch_whatsapp.models import OutboundMessage

from .conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def age(queryset, minutes=30):
    queryset.update(created_at=timezone.now() - timedelta(minutes=minutes))


def test_missed_webhooks_are_applied_from_the_callback_store(sandbox_bot, fresh_sandbox):
    # The sandbox bot has no callback URL: every report is kept in the store only.
    outcome = services.send_text(sandbox_bot, ["46732001122", "46732001123"], "Hi", allow_outside_window=True)
    assert {m.state for m in outcome.messages} == {"queued"}
    assert fresh_sandbox.wait_for_callbacks(timeout=5)
    rows = OutboundMessage.objects.filter(bot=sandbox_bot)
    out = StringIO()
    call_command("sinch_whatsapp_reconcile", stdout=out)  # too recent: nothing checked
    assert "Checked 0" in out.getvalue()
    age(rows)
    call_command("sinch_whatsapp_reconcile", stdout=out)
    assert "Checked 2, changed 2" in out.getvalue()
    assert set(rows.values_list("state", flat=True)) == {"read"}
    assert rows.first().status_events.count() == 5
    assert fresh_sandbox.count("GET", "/callbacks/status/" + rows.first().sinch_message_id) == 1
    call_command("sinch_whatsapp_reconcile", stdout=out)  # settled: not asked again
    assert fresh_sandbox.count("GET", "/callbacks/status/" + rows.first().sinch_message_id) == 1


def test_rows_recorded_but_never_dispatched_are_sent(kit, any_transport_bot, fresh_sandbox, monkeypatch):
    from django.db import transaction

    from django_sinch_whatsapp import dispatch

    monkeypatch.setattr(dispatch.transaction, "on_commit", lambda func: None)  # the process "died" after commit
    with transaction.atomic():  # inside a caller's transaction: the outbox path (rows recorded unclaimed)
        outcome = services.send_text(any_transport_bot, ["46732001122"], "Hi", allow_outside_window=True)
    monkeypatch.undo()
    row = OutboundMessage.objects.get(pk=outcome.messages[0].pk)
    assert row.state == "accepted" and row.dispatched_at is None
    assert kit.send_count(fresh_sandbox) == 0
    age(OutboundMessage.objects.all())
    out = StringIO()
    call_command("sinch_whatsapp_reconcile", stdout=out)
    assert "re-dispatched 1 batch(es)" in out.getvalue()
    assert wait_for(lambda: OutboundMessage.objects.get(pk=row.pk).sinch_message_id)
    assert kit.send_count(fresh_sandbox) == 1


def test_never_dispatched_rows_are_counted_and_sent_per_batch(sandbox_bot, fresh_sandbox, monkeypatch):
    from django.db import transaction

    from django_sinch_whatsapp import dispatch

    numbers = [f"467320{n:05d}" for n in range(30)]  # 2 batches (20 + 10), 30 rows of 30 created_at values
    monkeypatch.setattr(dispatch.transaction, "on_commit", lambda func: None)
    with transaction.atomic():
        services.send_text(sandbox_bot, numbers, "Hi", allow_outside_window=True)
    monkeypatch.undo()
    for n, pk in enumerate(OutboundMessage.objects.values_list("pk", flat=True)):  # as recorded: one time per row
        OutboundMessage.objects.filter(pk=pk).update(created_at=timezone.now() - timedelta(minutes=30, seconds=n))
    out = StringIO()
    call_command("sinch_whatsapp_reconcile", stdout=out)
    assert "re-dispatched 2 batch(es)" in out.getvalue()  # not one per row
    assert fresh_sandbox.count("POST", "/messages") == 2
    assert not OutboundMessage.objects.filter(state="accepted").exists()


def test_the_command_waits_for_the_bots_rate_limit(make_bot, fresh_sandbox, monkeypatch):
    from django.db import transaction

    from django_sinch_whatsapp import dispatch

    from .conftest import CALLBACK_KEY, TOKEN

    # 2 messages/s in requests of 1: three rows need two seconds of waiting, more than a web request may.
    bot = make_bot(base_url_override=fresh_sandbox.region_url("us"), rate_limit=2, rate_burst=1)
    fresh_sandbox.register_bot(bot.sinch_bot_id, TOKEN, region="us", callback_key=CALLBACK_KEY)
    monkeypatch.setattr(dispatch.transaction, "on_commit", lambda func: None)
    with transaction.atomic():
        services.send_text(bot, ["46732001122", "46732001123", "46732001124"], "Hi", allow_outside_window=True)
    monkeypatch.undo()
    age(OutboundMessage.objects.all())
    call_command("sinch_whatsapp_reconcile", stdout=StringIO())
    assert fresh_sandbox.count("POST", "/messages") == 3  # all of them, none left to the outbox
    assert not OutboundMessage.objects.filter(state="accepted").exists()


def test_dispatch_that_never_finished_becomes_unknown_and_is_not_resent(
    kit, any_transport_bot, fresh_sandbox, monkeypatch
):
    from django_sinch_whatsapp import dispatch

    # The inline path records the row claimed and sends it after commit; the process "dies" in between.
    monkeypatch.setattr(dispatch, "deliver_claimed", lambda rows: dispatch.BatchResult(batch_id=rows[0].batch_id))
    outcome = services.send_text(any_transport_bot, ["46732001122"], "Hi", allow_outside_window=True)
    monkeypatch.undo()
    assert OutboundMessage.objects.get().dispatched_at is not None
    OutboundMessage.objects.update(dispatched_at=timezone.now() - timedelta(minutes=30))
    age(OutboundMessage.objects.all())
    out = StringIO()
    call_command("sinch_whatsapp_reconcile", stdout=out)
    assert "marked 1 unfinished dispatch(es) unknown" in out.getvalue()
    row = OutboundMessage.objects.get(pk=outcome.messages[0].pk)
    assert row.state == "unknown" and "not re-sent" in row.error_details
    assert kit.send_count(fresh_sandbox) == 0


def test_inline_dispatch_that_cannot_start_releases_the_claim_for_reconciliation(
    kit, any_transport_bot, fresh_sandbox, monkeypatch
):
    from django_sinch_whatsapp import dispatch

    def broken(bot):
        raise RuntimeError("client cannot be built")

    monkeypatch.setattr(dispatch, "transport_for_bot", broken)
    outcome = services.send_text(any_transport_bot, ["46732001122"], "Hi", allow_outside_window=True)
    monkeypatch.undo()
    assert outcome.pending_batches == 1 and "client cannot be built" in outcome.dispatch_errors[0]
    row = OutboundMessage.objects.get()
    assert row.state == "accepted" and row.dispatched_at is None  # released: nothing was sent
    assert kit.send_count(fresh_sandbox) == 0
    age(OutboundMessage.objects.all())
    out = StringIO()
    call_command("sinch_whatsapp_reconcile", stdout=out)
    assert "re-dispatched 1 batch(es)" in out.getvalue()
    assert wait_for(lambda: OutboundMessage.objects.get(pk=row.pk).sinch_message_id)
    assert kit.send_count(fresh_sandbox) == 1


def test_delivered_messages_are_settled_and_no_message_starves_the_others(kit, any_transport_bot, fresh_sandbox):
    outcome = services.send_text(
        any_transport_bot, ["46732001122", "46732001123", "46732001124"], "Hi", allow_outside_window=True
    )
    assert fresh_sandbox.wait_for_callbacks(timeout=5)
    first, second, third = outcome.messages
    OutboundMessage.objects.filter(pk=first.pk).update(state="delivered")
    age(OutboundMessage.objects.all())
    from django_sinch_whatsapp.services.reconciliation import reconcile

    assert reconcile(older_than=timedelta(minutes=15), limit=1).checked == 1
    assert reconcile(older_than=timedelta(minutes=15), limit=1).checked == 1
    assert kit.lookups(fresh_sandbox, first.sinch_message_id) == 0  # delivered: settled
    assert kit.lookups(fresh_sandbox, second.sinch_message_id) == 1
    assert kit.lookups(fresh_sandbox, third.sinch_message_id) == 1
