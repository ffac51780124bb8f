"""The campaign command: exact counts over 20,000 rows, progress on a terminal and in a pipe, resume."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from django_sinch_whatsapp.models import Campaign, CampaignRow, CampaignRowState, OutboundMessage
from django_sinch_whatsapp.services import campaigns

from .campaign_files import BAD_EVERY, write_campaign_csv

REPO = Path(__file__).resolve().parent.parent
COLUMNS = ["--number-column", "phone", "--param-column", "first_name", "--param-column", "offer"]


def database_url() -> str:
    """This process's test database, for a command run as a subprocess."""
    data = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{data['NAME']}"
    user = data.get("USER") or "postgres"
    password = f":{data['PASSWORD']}" if data.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{data.get('HOST') or '127.0.0.1'}:{data.get('PORT') or 5432}/{data['NAME']}"


def command_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(REPO),
        "DATABASE_URL": database_url(),
    }


def command_argv(csv_path: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "django", "sinch_whatsapp_campaign", str(csv_path), *options]


def sent_numbers(sandbox) -> Counter[str]:
    """How many times the sandbox received each number in a POST /messages."""
    counts: Counter[str] = Counter()
    for entry in sandbox.requests_log:
        if entry["method"] == "POST" and entry["path"].endswith("/messages"):
            body = entry["body"] if isinstance(entry["body"], dict) else json.loads(entry["body"])
            counts.update(body["to"])
    return counts


def run(csv_path: Path, *options: str) -> str:
    out = io.StringIO()
    call_command("sinch_whatsapp_campaign", str(csv_path), *options, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_twenty_thousand_rows_exact_counts_rejections_by_line_and_plain_progress(bot, tmp_path):
    """The counts over 20,000 rows (1% bad), validated and stored; sending them is measured in bench/."""
    path = tmp_path / "campaign.csv"
    expected = write_campaign_csv(path, 20_000)
    assert expected["rejected"] == 20_000 // BAD_EVERY  # 1% bad rows
    output = run(path, "--bot", str(bot.pk), "--template", "spring_offer", *COLUMNS, "--validate-only")
    campaign = Campaign.objects.get()
    assert (campaign.accepted, campaign.rejected) == (expected["accepted"], expected["rejected"]) == (19_800, 200)
    assert CampaignRow.objects.filter(campaign=campaign, state=CampaignRowState.ACCEPTED).count() == 19_800
    assert f"Campaign {campaign.pk}: 20001 lines read, 19800 accepted, 200 rejected, 0 sent, 0 failed" in output
    lines = output.splitlines()
    # Plain lines (not a terminal): one every 1,000 rows by default.
    assert [line for line in lines if line.startswith("validated")] == [
        f"validated {n} rows" for n in range(1000, 20_001, 1000)
    ]
    # Rejected rows: counted by reason, and the first listed with their line (the header is line 1).
    assert f"  rejected {expected['empty parameter']}: column 'first_name' is empty (a body parameter)" in lines
    assert f"  rejected {expected['missing field']}: has 2 fields; the header has 3" in lines
    assert (
        f"  rejected {expected['invalid number']}: number: it has too few digits for a number of its country" in lines
    )
    assert any("template message.body_params: totals" in line and "the limit is 1024" in line for line in lines)
    assert "  line 101: '+46700000100': column 'first_name' is empty (a body parameter)" in lines
    assert "  line 401: '12-400': number: it has too few digits for a number of its country" in lines


@pytest.mark.django_db(transaction=True)
def test_a_campaign_sends_every_accepted_row_once_batched_by_parameters(sandbox_bot, fresh_sandbox, tmp_path):
    path = tmp_path / "campaign.csv"
    expected = write_campaign_csv(path, 2_000)
    output = run(path, "--bot", str(sandbox_bot.pk), "--template", "spring_offer", *COLUMNS)
    campaign = Campaign.objects.get()
    summary = campaigns.summarize(campaign)
    assert (summary.accepted, summary.rejected) == (expected["accepted"], expected["rejected"]) == (1_980, 20)
    assert (summary.sent, summary.failed, summary.unknown, summary.pending) == (1_980, 0, 0, 0)
    assert "1980 accepted, 20 rejected, 1980 sent, 0 failed, 0 unknown, 0 pending" in output
    assert "sent 1980/1980 (100%) rows" in output.splitlines()
    sent = sent_numbers(fresh_sandbox)
    assert len(sent) == 1_980 and set(sent.values()) == {1}
    # 10 parameter sets: rows that share one share requests (20 each), so far fewer requests than rows.
    requests = fresh_sandbox.count("POST", "/messages")
    assert requests <= 1_980 // 20 + 4 * 10 * 2
    bodies = [e["body"] for e in fresh_sandbox.requests_log if e["method"] == "POST"]
    body = bodies[0] if isinstance(bodies[0], dict) else json.loads(bodies[0])
    assert body["message"]["type"] == "template" and len(body["message"]["body_params"]) == 2
    # A re-run of a finished campaign sends nothing.
    again = run(path, "--campaign", str(campaign.pk))
    assert fresh_sandbox.count("POST", "/messages") == requests
    assert "1980 accepted, 20 rejected, 1980 sent" in again


@pytest.mark.django_db(transaction=True)
def test_a_group_queued_and_sent_before_a_crash_is_linked_on_resume_not_sent_again(
    sandbox_bot, fresh_sandbox, tmp_path
):
    """The crash window between Sinch's answer and linking the rows: the idempotency key replays the send."""
    path = tmp_path / "campaign.csv"
    write_campaign_csv(path, 30)
    campaign = campaigns.create_campaign(
        sandbox_bot, template_name="spring_offer", number_column="phone", param_columns=["first_name", "offer"]
    )
    with path.open(newline="") as stream:
        campaigns.import_rows(campaign, stream)
    chunk = list(CampaignRow.objects.filter(campaign=campaign, state=CampaignRowState.ACCEPTED).order_by("line"))
    first = campaigns._queue(campaign, chunk)[0][0]
    from django_sinch_whatsapp.client import messages as builders
    from django_sinch_whatsapp.services.sending import send_message

    # Sent, then "killed" before the rows were marked sent.
    message = builders.template("spring_offer", body_params=first[0].params)
    send_message(sandbox_bot, [row.number for row in first], message, idempotency_key=first[0].send_key)
    assert CampaignRow.objects.filter(campaign=campaign, state=CampaignRowState.QUEUED).count() == 30
    summary = campaigns.send_campaign(campaign)
    assert summary.sent == 30 and summary.pending == 0
    sent = sent_numbers(fresh_sandbox)
    assert len(sent) == 30 and set(sent.values()) == {1}


@pytest.mark.django_db(transaction=True)
def test_resume_after_sigkill_at_half_sends_no_row_twice(sandbox_bot, fresh_sandbox, tmp_path):
    rows = 2_000
    path = tmp_path / "campaign.csv"
    expected = write_campaign_csv(path, rows)
    argv = command_argv(path, "--bot", str(sandbox_bot.pk), "--template", "spring_offer", *COLUMNS)
    process = subprocess.Popen(argv, env=command_env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        half = expected["accepted"] // 2
        deadline = time.monotonic() + 60
        while CampaignRow.objects.filter(state=CampaignRowState.SENT).count() < half:
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "the command did not reach half in 60 s"
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(10)
    campaign = Campaign.objects.get()
    done = CampaignRow.objects.filter(state=CampaignRowState.SENT).count()
    assert half <= done < expected["accepted"], "killed too late to prove a resume"
    resumed = subprocess.run(
        command_argv(path, "--campaign", str(campaign.pk)),
        env=command_env(),
        cwd=REPO,
        capture_output=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    summary = campaigns.summarize(campaign)
    assert (summary.accepted, summary.rejected) == (1_980, 20)
    # A kill during a request leaves its group (at most 20 rows) recorded but unanswered: never sent again
    # (it may have reached Sinch), left for reconciliation. Every other row was sent.
    in_flight = summary.pending + summary.unknown
    assert summary.sent + in_flight == 1_980 and in_flight <= 20
    sent = sent_numbers(fresh_sandbox)
    assert max(sent.values()) == 1  # every number at most once: no row sent twice
    assert 1_980 - in_flight <= len(sent) <= 1_980
    assert OutboundMessage.objects.count() == 1_980


@pytest.mark.django_db(transaction=True)
def test_a_terminal_gets_a_progress_bar(sandbox_bot, fresh_sandbox, tmp_path):
    path = tmp_path / "campaign.csv"
    write_campaign_csv(path, 300)
    argv = command_argv(path, "--bot", str(sandbox_bot.pk), "--template", "spring_offer", *COLUMNS)
    leader, follower = pty.openpty()
    process = subprocess.Popen(argv, env=command_env(), cwd=REPO, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    process.wait(10)
    os.close(leader)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    assert "sending" in text and "297/297" in text and "\u2501" in text  # rich's bar
    assert "sent 297/297" not in text  # no plain lines on a terminal
    assert "297 accepted, 3 rejected, 297 sent" in text


@pytest.mark.django_db
def test_a_missing_column_is_refused_naming_the_option(bot, tmp_path):
    path = tmp_path / "campaign.csv"
    write_campaign_csv(path, 5)
    with pytest.raises(CommandError, match=r"param_column: column 'order_id' is not in the CSV header"):
        run(path, "--bot", str(bot.pk), "--template", "t", "--number-column", "phone", "--param-column", "order_id")


@pytest.mark.django_db
def test_the_same_number_twice_is_rejected_with_the_first_line(bot, tmp_path):
    path = tmp_path / "dupes.csv"
    path.write_text("number,name\n+46 70 123 45 67,A\n46701234567,B\n+46701234568,C\n")
    output = run(path, "--bot", str(bot.pk), "--template", "t", "--param-column", "name", "--validate-only")
    assert "2 accepted, 1 rejected" in output
    assert "  line 3: '46701234567': number: the same number as line 2" in output.splitlines()


@pytest.mark.django_db(transaction=True)
def test_the_api_takes_an_uploaded_csv_and_answers_the_campaign_with_its_counts(
    sandbox_bot, fresh_sandbox, api_user, tmp_path
):
    from rest_framework.test import APIClient

    path = tmp_path / "campaign.csv"
    write_campaign_csv(path, 200)
    api = APIClient()
    api.force_authenticate(api_user)
    with path.open("rb") as upload:
        response = api.post(
            "/api/sinch-whatsapp/campaigns/",
            {
                "bot": sandbox_bot.pk,
                "file": upload,
                "template_name": "spring_offer",
                "number_column": "phone",
                "param_columns": ["first_name", "offer"],
            },
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (198, 2)
    assert body["progress"]["sent"] == 198 and body["progress"]["pending"] == 0
    assert {item["line"] for item in body["progress"]["rejections"]} == {101, 201}
    shown = api.get(f"/api/sinch-whatsapp/campaigns/{body['id']}/").json()
    assert shown["progress"]["sent"] == 198
    assert len(sent_numbers(fresh_sandbox)) == 198


@pytest.mark.django_db
def test_the_api_refuses_a_missing_column_and_another_tenants_bot(make_bot, other_organization, api_user, tmp_path):
    from rest_framework.test import APIClient

    mine, theirs = make_bot(), make_bot(tenant=other_organization, sinch_bot_id="globex")
    api = APIClient()
    api.force_authenticate(api_user)
    data = {"file": io.BytesIO(b"phone\n+46701234567\n"), "template_name": "t", "number_column": "number"}
    response = api.post("/api/sinch-whatsapp/campaigns/", {**data, "bot": mine.pk}, format="multipart")
    assert response.status_code == 400
    assert "number_column" in json.dumps(response.json()) and Campaign.objects.count() == 0
    data["file"] = io.BytesIO(b"number\n+46701234567\n")
    response = api.post("/api/sinch-whatsapp/campaigns/", {**data, "bot": theirs.pk}, format="multipart")
    assert response.status_code == 400 and "bot" in response.json()["error"]["fields"]
    assert Campaign.objects.count() == 0
