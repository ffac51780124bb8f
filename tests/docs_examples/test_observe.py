"""docs/howto/observe.rst: the log line of each Sinch call, the per-bot counters, the dashboard's figures."""

from __future__ import annotations

import logging
import logging.config

import pytest


@pytest.mark.django_db(transaction=True)
def test_logs_counters_and_the_dashboard(sandbox_bot, fresh_sandbox, api_user, caplog, settings):
    bot = sandbox_bot
    # [start-logging]
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"console": {"class": "logging.StreamHandler"}},
        "loggers": {
            # INFO: one line per Sinch call; WARNING and ERROR: refused callbacks, failed dispatches ...
            "django_sinch_whatsapp": {"handlers": ["console"], "level": "INFO"},
        },
    }
    # [end-logging]
    logging.config.dictConfig(LOGGING)
    try:
        with caplog.at_level(logging.INFO, logger="django_sinch_whatsapp.calls"):
            # [start-call-line]
            from django_sinch_whatsapp import services

            services.send_text(bot, ["46732001122"], "Your code is 4711", allow_outside_window=True)
            # The log line of that call (logger django_sinch_whatsapp.calls):
            # sinch_call method=POST path=/whatsapp/v1/{bot_id}/messages status=201 duration_ms=3.1 bot=1
            #   sinch_bot_id=support-bot batch=5c0f...
            # and the same fields as a dict, for a JSON formatter: record.sinch_call
            # [end-call-line]
    finally:
        logging.config.dictConfig(settings.LOGGING)
    (record,) = [r for r in caplog.records if r.name == "django_sinch_whatsapp.calls"]
    line = record.getMessage()
    assert line.startswith("sinch_call method=POST path=/whatsapp/v1/{bot_id}/messages status=201 duration_ms=")
    assert f" bot={bot.pk} sinch_bot_id=support-bot batch=" in line
    assert record.sinch_call["status"] == 201 and record.sinch_call["path"] == "/whatsapp/v1/{bot_id}/messages"
    assert "46732001122" not in line and "Bearer" not in line  # numbers redacted, never a token
    # [start-counters]
    from rest_framework.test import APIClient

    from django_sinch_whatsapp.observability import bot_counters

    counters = bot_counters(bot)  # three cheap reads, whatever the volume
    print({name: counters[name] for name in ("accepted", "sent", "delivered", "failed", "unknown")})
    # {'accepted': 0, 'sent': 1, 'delivered': 0, 'failed': 0, 'unknown': 0}
    print(counters["refused_callbacks"], counters["rate_limited_429"], counters["current_rate"])  # 0 0 ...

    # The same in the API, on one bot's answer (lists leave it out):
    api = APIClient()
    api.force_authenticate(api_user)
    print(api.get(f"/api/sinch-whatsapp/bots/{bot.pk}/").json()["counters"]["sent"])  # 1
    # [end-counters]
    assert {name: counters[name] for name in ("accepted", "sent", "delivered", "failed", "unknown")} == {
        "accepted": 0,
        "sent": 1,
        "delivered": 0,
        "failed": 0,
        "unknown": 0,
    }
    assert counters["refused_callbacks"] == 0 and counters["rate_limited_429"] == 0
    listed = api.get("/api/sinch-whatsapp/bots/").json()["results"]
    assert listed[0]["counters"] is None
    assert api.get(f"/api/sinch-whatsapp/bots/{bot.pk}/").json()["counters"]["sent"] == 1
