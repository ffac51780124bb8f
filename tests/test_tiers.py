"""Messaging tiers: a 250-tier bot and a 300-recipient template campaign."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from django_sinch_whatsapp import services
from django_sinch_whatsapp.client import messages as builders
from django_sinch_whatsapp.exceptions import MessagingTierExceeded
from django_sinch_whatsapp.models import OutboundMessage
from django_sinch_whatsapp.services.tiers import unique_recipients_24h

pytestmark = pytest.mark.django_db(transaction=True)

NUMBERS = [f"4673{n:07d}" for n in range(300)]


def _template():
    return builders.template("campaign", language="en_US")


@pytest.fixture
def tier_bot(sandbox_bot):
    sandbox_bot.messaging_tier = 250
    sandbox_bot.save()
    return sandbox_bot


def test_over_the_tier_is_refused_up_front_with_the_numbers(tier_bot, fresh_sandbox):
    with pytest.raises(MessagingTierExceeded) as err:
        services.send_message(tier_bot, NUMBERS, _template())
    assert (err.value.tier, err.value.used, err.value.requested) == (250, 0, 300)
    assert "250 unique users per 24 hours: 0 used, 300 requested, 250 left" in str(err.value)
    assert not OutboundMessage.objects.exists() and fresh_sandbox.count("POST", "/messages") == 0


def test_deferral_sends_250_now_and_schedules_50(tier_bot, fresh_sandbox):
    outcome = services.send_message(tier_bot, NUMBERS, _template(), over_tier="defer")
    assert outcome.accepted == 300 and outcome.deferred == 50 and outcome.sent == 250
    sent = [n for e in fresh_sandbox.requests_log if e["path"].endswith("/messages") for n in e["body"]["to"]]
    assert sent == NUMBERS[:250]
    later = OutboundMessage.objects.filter(bot=tier_bot, not_before__isnull=False)
    assert sorted(later.values_list("recipient", flat=True)) == NUMBERS[250:]
    assert set(later.values_list("state", flat=True)) == {"accepted"}
    soonest = min(later.values_list("not_before", flat=True))
    assert soonest > timezone.now() + timedelta(hours=23, minutes=59)
    # The deferred rows hold their place: the tier is full, a further campaign is refused.
    assert unique_recipients_24h(tier_bot) == 300
    with pytest.raises(MessagingTierExceeded):
        services.send_message(tier_bot, ["46700000001"], _template())
    # Dispatch and reconciliation honour not_before: nothing goes early ...
    from django_sinch_whatsapp.ratelimit import waiting_allowed
    from django_sinch_whatsapp.services.reconciliation import reconcile

    with waiting_allowed():
        reconcile(older_than=timedelta(seconds=-1))
    assert fresh_sandbox.count("POST", "/messages") == 13  # 250 in batches of 20, nothing more
    # ... and once due (the window has rolled on), reconciliation sends them.
    OutboundMessage.objects.filter(bot=tier_bot, not_before__isnull=True).update(
        dispatched_at=timezone.now() - timedelta(hours=25)
    )
    later.update(not_before=timezone.now() - timedelta(seconds=1))
    with waiting_allowed():
        reconcile(older_than=timedelta(seconds=-1))
    sent = [n for e in fresh_sandbox.requests_log if e["path"].endswith("/messages") for n in e["body"]["to"]]
    assert sorted(sent) == NUMBERS and len(sent) == 300
    assert unique_recipients_24h(tier_bot) == 50


def test_texts_and_unlimited_bots_do_not_count(sandbox_bot, fresh_sandbox):
    outcome = services.send_message(sandbox_bot, NUMBERS, _template())  # no tier: unlimited
    assert outcome.sent == 300
    assert unique_recipients_24h(sandbox_bot) == 300
    sandbox_bot.messaging_tier = 250
    services.send_text(sandbox_bot, ["46700000002"], "Hi", allow_outside_window=True)
    assert unique_recipients_24h(sandbox_bot) == 300


def test_a_stream_over_the_tier_has_its_excess_rejected(tier_bot, fresh_sandbox):
    outcome = services.send_message(tier_bot, iter(NUMBERS), _template())
    assert outcome.sent == 250 and outcome.rejected_count == 50
    assert "messaging tier" in outcome.rejected[0].reason


@pytest.fixture
def api(api_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(api_user)
    return client


TEMPLATE_JSON = {"type": "template", "template_name": "campaign", "language": "en_US"}


def test_the_api_refuses_a_send_over_the_tier_with_409_and_the_numbers(api, tier_bot, fresh_sandbox):
    url = f"/api/sinch-whatsapp/bots/{tier_bot.pk}/send/"
    response = api.post(url, {"to": NUMBERS, "message": TEMPLATE_JSON}, format="json")
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "messaging_tier_exceeded"
    assert (error["tier"], error["used"], error["requested"], error["left"]) == (250, 0, 300, 250)
    assert '"over_tier": "defer"' in error["message"] and "over_tier" in error["fields"]
    assert not OutboundMessage.objects.exists() and fresh_sandbox.count("POST", "/messages") == 0

    response = api.post(url, {"to": NUMBERS, "message": TEMPLATE_JSON, "over_tier": "defer"}, format="json")
    assert response.status_code in (200, 201, 207), response.content
    assert OutboundMessage.objects.filter(bot=tier_bot, not_before__isnull=False).count() == 50
    assert fresh_sandbox.count("POST", "/messages") == 13  # 250 now, in batches of 20


def test_a_campaign_upload_over_the_tier_is_refused_before_sending_any(api, tier_bot, fresh_sandbox):
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = ("number\n" + "\n".join(f"+{n}" for n in NUMBERS) + "\n").encode()
    upload = {"bot": tier_bot.pk, "template_name": "campaign", "language": "en_US"}
    response = api.post(
        "/api/sinch-whatsapp/campaigns/",
        {**upload, "file": SimpleUploadedFile("c.csv", csv, content_type="text/csv")},
        format="multipart",
    )
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert error["code"] == "messaging_tier_exceeded" and error["requested"] == 300 and error["campaign"]
    assert not OutboundMessage.objects.exists() and fresh_sandbox.count("POST", "/messages") == 0


def _deferred(tier_bot) -> list[OutboundMessage]:
    outcome = services.send_message(tier_bot, NUMBERS, _template(), over_tier="defer")
    assert outcome.deferred == 50
    return list(OutboundMessage.objects.filter(bot=tier_bot, not_before__isnull=False))


def test_dispatch_due_sends_deferred_rows_once_their_time_has_come(tier_bot, fresh_sandbox):
    from django_sinch_whatsapp.dispatch import dispatch_due

    later = _deferred(tier_bot)
    due_at = min(row.not_before for row in later)
    assert dispatch_due() == [] and dispatch_due(now=due_at - timedelta(seconds=1)) == []
    assert fresh_sandbox.count("POST", "/messages") == 13  # the 250 sent at once, nothing deferred
    batches = dispatch_due(now=due_at + timedelta(seconds=1))  # 24 hours on
    assert sorted(batches) == sorted({row.batch_id for row in later}) and len(batches) == 3
    rows = OutboundMessage.objects.filter(pk__in=[row.pk for row in later])
    assert set(rows.values_list("state", flat=True)) == {"queued"}
    assert set(rows.values_list("not_before", flat=True)) == {None}
    sent = [n for e in fresh_sandbox.requests_log if e["path"].endswith("/messages") for n in e["body"]["to"]]
    assert sorted(sent) == NUMBERS  # each number once
    assert dispatch_due(now=due_at + timedelta(hours=1)) == []  # nothing left, nothing sent again
    assert fresh_sandbox.count("POST", "/messages") == 16


def test_dispatch_due_publishes_in_two_queries_whatever_the_number_of_batches(
    tier_bot, fresh_sandbox, settings, monkeypatch, django_assert_num_queries
):
    from django_sinch_whatsapp import dispatch

    later = _deferred(tier_bot)
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "DISPATCH_BACKEND": "celery"}
    published: list = []
    monkeypatch.setattr(dispatch, "publish", lambda ids, sink: published.extend(ids))
    due_at = max(row.not_before for row in later) + timedelta(seconds=1)
    # BEGIN, SELECT ... FOR UPDATE SKIP LOCKED, UPDATE not_before, COMMIT.
    with django_assert_num_queries(4):
        batches = dispatch.dispatch_due(now=due_at)
    assert sorted(published) == sorted(batches) and len(batches) == 3
    # Published once: a run while the tasks wait in the queue publishes nothing again.
    assert dispatch.dispatch_due(now=due_at) == [] and len(published) == 3
    # At most `limit` batches a run; the rest on the next one.
    OutboundMessage.objects.filter(pk__in=[row.pk for row in later]).update(not_before=due_at)
    assert len(dispatch.dispatch_due(now=due_at, limit=2)) == 2
    assert len(dispatch.dispatch_due(now=due_at, limit=2)) == 1
    assert fresh_sandbox.count("POST", "/messages") == 13  # the tasks were only published


@pytest.mark.postgres_only
def test_two_dispatch_due_runs_at_once_take_disjoint_rows(tier_bot, fresh_sandbox, settings, monkeypatch):
    import threading

    from django.db import connection, transaction

    from django_sinch_whatsapp import dispatch

    later = _deferred(tier_bot)
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "DISPATCH_BACKEND": "celery"}
    published: list = []
    monkeypatch.setattr(dispatch, "publish", lambda ids, sink: published.extend(ids))
    due_at = max(row.not_before for row in later) + timedelta(seconds=1)
    first_batch = sorted(later, key=lambda row: (row.not_before, str(row.batch_id)))[0].batch_id
    locked, release = threading.Event(), threading.Event()

    def other_run_holding_one_batch():
        try:
            with transaction.atomic():
                list(OutboundMessage.objects.select_for_update().filter(batch_id=first_batch))
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    other = threading.Thread(target=other_run_holding_one_batch)
    other.start()
    try:
        assert locked.wait(10)
        batches = dispatch.dispatch_due(now=due_at)  # does not wait for the locked rows: skips them
    finally:
        release.set()
        other.join(10)
    assert first_batch not in batches and len(batches) == 2
    assert dispatch.dispatch_due(now=due_at) == [first_batch]
    assert sorted(published) == sorted({row.batch_id for row in later})
