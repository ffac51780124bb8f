"""(e) The admin changelist and the API messages list at a small and a large table.

Through Django's test client in this process (so queries can be counted), as a
superuser: the admin's outbound-message changelist and ``GET /api/.../messages/``.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import make_sent_messages, median

ADMIN_URL = "/admin/sinch_whatsapp/outboundmessage/"
API_URL = "/api/sinch-whatsapp/messages/"


def measure(client: Any, url: str, calls: int) -> tuple[int, float, int]:
    """(queries of one request, median seconds, status)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    client.get(url)
    reset_queries()  # a full query log (9,000 entries, e.g. after migrate) would count nothing
    with CaptureQueriesContext(connection) as captured:
        status = client.get(url).status_code
    queries = len(captured.captured_queries)  # now: the property reads the live log, which later requests reset
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        client.get(url)
        samples.append(time.perf_counter() - started)
    return queries, median(samples), status


def lists(bot: Any, sizes: tuple[int, ...], calls: int) -> dict[int, dict[str, tuple[int, float, int]]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from django_sinch_whatsapp.models import OutboundMessage

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench-admin").first() or user_model.objects.create_superuser(
        "bench-admin", "bench@example.com", "bench-password"
    )
    client = Client()
    client.force_login(user)
    from django.db import connection

    with connection.cursor() as cursor:  # exactly ``size`` rows, whatever ran before
        cursor.execute(f"TRUNCATE {OutboundMessage._meta.db_table} CASCADE")
    out: dict[int, dict[str, tuple[int, float, int]]] = {}
    for size in sorted(sizes):
        have = OutboundMessage.objects.count()
        if have < size:
            make_sent_messages(bot, size - have, f"list{size}")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        out[size] = {
            "admin": measure(client, ADMIN_URL, calls),
            "api": measure(client, API_URL, calls),
            "rows": (OutboundMessage.objects.count(), 0.0, 0),
        }
    return out
