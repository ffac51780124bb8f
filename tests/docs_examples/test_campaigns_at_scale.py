"""docs/tutorials/campaigns.rst: a campaign sent by real Celery workers, the messaging tier, and "unknown"."""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import wait_for
from tests.test_celery_dispatch import start_worker  # noqa: F401 - a real worker process (prefetch 1) per test


def _customers(tmp_path, count, *, same_city=False):
    path = tmp_path / "customers.csv"
    rows = [f"+4670{1_000_000 + i},{'Lund' if same_city else f'Customer {i}'}" for i in range(count)]
    path.write_text("phone,first_name\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_campaign_sent_by_celery_workers(start_worker, sandbox_bot, fresh_sandbox, settings, tmp_path, capsys):  # noqa: F811
    SINCH_WHATSAPP = settings.SINCH_WHATSAPP
    # [start-settings]
    SINCH_WHATSAPP = {
        **SINCH_WHATSAPP,
        # The command (or a web request) records the rows; a task per request batch sends them.
        "DISPATCH_BACKEND": "celery",
        # One token bucket per bot in Redis, drawn from by every worker.
        "RATE_LIMIT_BACKEND": "redis",
        "RATE_LIMIT_REDIS_URL": os.environ.get("RATE_LIMIT_REDIS_URL", "redis://127.0.0.1:6379/14"),
    }
    # [end-settings]
    settings.SINCH_WHATSAPP = SINCH_WHATSAPP
    start_worker(SINCH_TEST_RATE_LIMIT_BACKEND="redis")  # celery -A tests.celery_app worker --prefetch-multiplier=1
    bot = sandbox_bot
    path = _customers(tmp_path, 30)
    # [start-limits]
    bot.rate_limit = 40  # messages per second, in any one-second window, shared by every worker
    bot.rate_burst = 10  # at most this many at once
    bot.messaging_tier = 2_000  # unique users per rolling 24 hours, as WhatsApp Manager shows it
    bot.full_clean()
    bot.save()
    # [end-limits]
    # [start-command]
    from django_sinch_whatsapp.models import Campaign
    from django_sinch_whatsapp.services import campaigns

    # python manage.py sinch_whatsapp_campaign customers.csv --bot 1 --template order_ready \
    #     --number-column phone --param-column first_name
    call_command(
        "sinch_whatsapp_campaign",
        str(path),
        f"--bot={bot.pk}",
        "--template=order_ready",
        "--number-column=phone",
        "--param-column=first_name",
    )
    # Campaign 1 (resume with --campaign 1)
    # Campaign 1: 31 lines read, 30 accepted, 0 rejected, 12 sent, 0 failed, 0 unknown, 18 pending
    # (sent and pending: how far the workers are by the time the command prints)

    # The command has recorded every row; the workers send them, 40 a second at most.
    campaign = Campaign.objects.get()
    wait_for(lambda: campaigns.summarize(campaign).pending == 0, timeout=60)  # the suite's polling helper
    print(campaigns.summarize(campaign).sent)  # 30
    # [end-command]
    output = capsys.readouterr().out
    assert "31 lines read, 30 accepted, 0 rejected" in output, output
    assert campaigns.summarize(campaign).sent == 30, campaigns.summarize(campaign)
    assert fresh_sandbox.count("POST", "/messages") == 30  # a first name per row: a request each


@pytest.mark.django_db(transaction=True)
def test_a_campaign_stops_at_the_messaging_tier_and_resumes(sandbox_bot, fresh_sandbox, tmp_path):
    from django_sinch_whatsapp.models import OutboundMessage

    bot = sandbox_bot
    bot.messaging_tier = 250
    bot.save()
    path = _customers(tmp_path, 300, same_city=True)
    # [start-tier]
    from django.core.management.base import CommandError

    from django_sinch_whatsapp.models import Campaign
    from django_sinch_whatsapp.services import campaigns

    out, refusal = StringIO(), ""
    try:
        call_command(
            "sinch_whatsapp_campaign",
            str(path),
            f"--bot={bot.pk}",
            "--template=offer",
            "--number-column=phone",
            "--progress=none",
            stdout=out,
        )
    except CommandError as err:
        refusal = str(err)
        print(refusal)
        # Nothing sent: 300 numbers to send, the bot's messaging tier has 250 of 250 unique users
        # left in the rolling 24 hours (0 used). Resume with --campaign 1 when it has room, or pass
        # --over-tier defer to send what fits now and schedule the rest.
    campaign = Campaign.objects.get()
    print(
        out.getvalue().splitlines()[-1]
    )  # Campaign 1: 301 lines read (the header too), 300 accepted, 0 rejected, 0 sent, ...
    # [end-tier]
    assert "Nothing sent: 300 numbers to send" in refusal and "--over-tier defer" in refusal
    assert f"Campaign {campaign.pk}: 301 lines read, 300 accepted, 0 rejected, 0 sent" in out.getvalue()
    assert campaigns.summarize(campaign).sent == 0
    assert not OutboundMessage.objects.filter(bot=bot).exists()
    # [start-tier-resume]
    call_command(
        "sinch_whatsapp_campaign", str(path), f"--campaign={campaign.pk}", "--over-tier=defer", "--progress=none"
    )
    deferred = OutboundMessage.objects.filter(bot=bot, not_before__isnull=False)
    print(OutboundMessage.objects.filter(bot=bot).count(), deferred.count())  # 300 50: 250 go now, 50 wait
    # [end-tier-resume]
    assert campaigns.summarize(campaign).accepted == 300
    assert deferred.count() == 50
    assert (
        OutboundMessage.objects.filter(bot=bot, not_before__isnull=True, sinch_message_id__isnull=False).count() == 250
    )
    assert OutboundMessage.objects.filter(bot=bot).count() == 300  # nobody messaged twice


@pytest.mark.django_db(transaction=True)
def test_unknown_rows_are_never_resent_and_a_report_settles_them(live_sandbox_bot, fresh_sandbox, settings, tmp_path):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "READ_TIMEOUT": 0.5}
    bot, sandbox = live_sandbox_bot, fresh_sandbox
    path = _customers(tmp_path, 2)
    # Sinch takes the first request but answers after the client has stopped waiting.
    sandbox.faults.slow_next(1, 1.5, path_contains="/messages")
    # [start-unknown]
    from io import StringIO

    from django_sinch_whatsapp.models import Campaign, OutboundMessage
    from django_sinch_whatsapp.services import campaigns
    from django_sinch_whatsapp.services.reconciliation import unknown_without_sinch_id

    out = StringIO()
    call_command(
        "sinch_whatsapp_campaign",
        str(path),
        f"--bot={bot.pk}",
        "--template=order_ready",
        "--number-column=phone",
        "--param-column=first_name",
        stdout=out,
    )
    summary = out.getvalue().splitlines()[-1]
    print(summary)  # Campaign 1: 3 lines read, 2 accepted, 0 rejected, 1 sent, 0 failed, 1 unknown, 0 pending

    unknown = OutboundMessage.objects.get(state="unknown")
    print(unknown.sinch_message_id, unknown.error_message)  # None, and why: no answer came
    print(unknown_without_sinch_id().count)  # 1

    out = StringIO()
    call_command("sinch_whatsapp_reconcile", "--older-than=0", stdout=out)
    print(out.getvalue().splitlines()[-1])
    # 1 message(s) in state unknown have no Sinch id (oldest recorded 0.0 h ago): reconciliation cannot
    # look them up; a delivery report for the same recipient settles them.

    # Sinch did take it: its delivery reports for that recipient arrive, and settle the row.
    wait_for(lambda: OutboundMessage.objects.get(pk=unknown.pk).state == "read", timeout=20)
    unknown.refresh_from_db()
    print(unknown.state, unknown.sinch_message_id is not None)  # read True
    print(campaigns.summarize(Campaign.objects.get()).unknown)  # 0
    # [end-unknown]
    assert summary.endswith("3 lines read, 2 accepted, 0 rejected, 1 sent, 0 failed, 1 unknown, 0 pending"), summary
    reconciled = out.getvalue().splitlines()[-1]
    assert reconciled.startswith("1 message(s) in state unknown have no Sinch id"), out.getvalue()
    assert wait_for(lambda: OutboundMessage.objects.filter(state="read").count() == 2, timeout=20)
    unknown.refresh_from_db()
    assert unknown.state == "read" and unknown.sinch_message_id
    assert campaigns.summarize(Campaign.objects.get()).unknown == 0
    assert sandbox.count("POST", "/messages") == 2  # the unknown row was never sent again


def test_the_reconcile_task_to_schedule():
    # [start-beat]
    CELERY_BEAT_SCHEDULE = {
        "sinch-whatsapp-reconcile": {
            "task": "django_sinch_whatsapp.reconcile",
            "schedule": 600.0,  # every 10 minutes
            "kwargs": {"older_than_seconds": 900, "limit": 500},  # the command's --older-than and --limit
        },
    }
    # [end-beat]
    import inspect

    from django_sinch_whatsapp.tasks import reconcile_task

    entry = CELERY_BEAT_SCHEDULE["sinch-whatsapp-reconcile"]
    assert reconcile_task.name == entry["task"]
    assert set(entry["kwargs"]) <= set(inspect.signature(reconcile_task.run).parameters)
