"""One structured log line per Sinch call, and per-bot counters."""

from __future__ import annotations

import logging

import pytest

from django_sinch_whatsapp import services
from django_sinch_whatsapp.observability import bot_counters, path_template, redact_number

from .conftest import TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_line_per_call_without_token_or_numbers(sandbox_bot, fresh_sandbox, caplog):
    caplog.set_level(logging.INFO, logger="django_sinch_whatsapp.calls")
    outcome = services.send_text(sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True)
    calls = [r for r in caplog.records if r.name == "django_sinch_whatsapp.calls"]
    assert len(calls) == 1
    fields = calls[0].sinch_call
    assert fields["method"] == "POST" and fields["status"] == 201
    assert fields["path"] == "/whatsapp/v1/{bot_id}/messages"
    assert fields["bot"] == sandbox_bot.pk and fields["batch"] == str(outcome.messages[0].batch_id)
    assert fields["duration_ms"] >= 0
    assert TOKEN not in caplog.text and "46732001122" not in caplog.text


def test_path_template_and_redaction():
    assert path_template("/whatsapp/v1/bot-1/provision/optin/46732001122", ("bot-1",)) == (
        "/whatsapp/v1/{bot_id}/provision/optin/{number}"
    )
    assert redact_number("46732001122") == "4673*****22"


def test_counters_from_rows_and_the_bucket(sandbox_bot, fresh_sandbox):
    services.send_text(sandbox_bot, ["46732001122", "46732001123"], "Hi", allow_outside_window=True)
    counters = bot_counters(sandbox_bot)
    assert counters["sent"] == 2 and counters["failed"] == 0 and counters["refused_callbacks"] == 0
    assert counters["rate_limited_429"] == 0 and counters["current_rate"] >= 0


def test_a_429_counts_and_shrinks_the_bucket(sandbox_bot, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=429, path_contains="/messages")
    services.send_text(sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True)
    counters = bot_counters(sandbox_bot)
    assert counters["rate_limited_429"] == 1 and counters["rate_penalty"] == 0.5
