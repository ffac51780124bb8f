"""The changelists of tables that grow without bound: a capped count and skip-scan date hierarchy."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta
from datetime import timezone as timezone_offset

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_sinch_whatsapp.admin.large_tables import CappedCountPaginator, with_skip_scan_dates
from django_sinch_whatsapp.models import CallbackEvent, Contact, InboundMessage, OutboundMessage

UTC = zoneinfo.ZoneInfo("UTC")
STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")  # half-hour offset: truncation must happen in the zone
MINUS_THREE = timezone_offset(timedelta(hours=-3))  # a fixed offset: Django's own query answers


def messages(bot, moments: list[datetime], state: str = "queued") -> None:
    rows = OutboundMessage.objects.bulk_create(
        [
            OutboundMessage(bot=bot, recipient=f"4670000{i:04d}", message_type="text", payload={}, state=state)
            for i in range(len(moments))
        ]
    )
    for row, moment in zip(rows, moments, strict=True):  # created_at is auto_now_add: set it afterwards
        OutboundMessage.objects.filter(pk=row.pk).update(created_at=moment)


MOMENTS = [
    datetime(2024, 12, 31, 22, 59, tzinfo=UTC),  # 2024-12-31 23:59 in Stockholm, 2025-01-01 04:29 in Kolkata
    datetime(2024, 12, 31, 23, 30, tzinfo=UTC),  # 2025-01-01 00:30 in Stockholm
    datetime(2025, 3, 30, 0, 30, tzinfo=UTC),  # the night Stockholm goes to summer time
    datetime(2025, 3, 30, 1, 30, tzinfo=UTC),
    datetime(2025, 3, 31, 21, 45, tzinfo=UTC),  # 23:45 in Stockholm, 03:15 on April 1 in Kolkata
    datetime(2025, 10, 26, 0, 30, tzinfo=UTC),  # the night it goes back
    datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
    datetime(2025, 10, 26, 1, 30, tzinfo=UTC),  # the same moment twice
    datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
]


@pytest.mark.django_db
@pytest.mark.parametrize("zone", [UTC, STOCKHOLM, KOLKATA, MINUS_THREE], ids=str)
@pytest.mark.parametrize("kind", ["year", "month", "day"])
def test_skip_scan_dates_are_the_periods_django_lists(bot, zone, kind):
    messages(bot, MOMENTS)
    messages(bot, [datetime(2025, 6, 15, 12, 0, tzinfo=UTC)], state="error")
    skipping = connection.vendor == "postgresql" and zone is not MINUS_THREE
    for queryset, skips in (
        (OutboundMessage.objects.all(), skipping),
        (OutboundMessage.objects.filter(created_at__year=2025), skipping),  # the hierarchy's own drill-down
        (OutboundMessage.objects.filter(created_at__gte=MOMENTS[2], created_at__lt=MOMENTS[-1]), skipping),
        (OutboundMessage.objects.filter(created_at__year=2031), skipping),
        (OutboundMessage.objects.filter(state="queued"), False),  # other filters: Django's query
        (OutboundMessage.objects.filter(bot__name=bot.name, created_at__year=2025), False),
    ):
        fast = with_skip_scan_dates(queryset)
        with timezone.override(zone), CaptureQueriesContext(connection) as queries:
            expected = list(QuerySet.datetimes(queryset, "created_at", kind))
            assert list(fast.datetimes("created_at", kind)) == expected, (queryset.query, kind, zone)
        assert queries[-1]["sql"].startswith("WITH RECURSIVE") is skips, queries[-1]["sql"][:80]
        assert list(fast.datetimes("created_at", kind, tzinfo=KOLKATA)) == list(
            QuerySet.datetimes(queryset, "created_at", kind, tzinfo=KOLKATA)
        )
        assert list(fast) == list(queryset)  # the same rows otherwise


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "moments"),
    [
        # Clocks go back at 01:00 to 00:00: local 00:00-00:59 happens twice, the first time in summer time.
        ("Atlantic/Azores", [datetime(2025, 10, 25, 12, 0, tzinfo=UTC), datetime(2025, 10, 26, 0, 30, tzinfo=UTC)]),
        ("America/Havana", [datetime(2025, 11, 1, 12, 0, tzinfo=UTC), datetime(2025, 11, 2, 4, 30, tzinfo=UTC)]),
        # Midnight that does not happen (clocks go forward at 00:00).
        ("America/Sao_Paulo", [datetime(2018, 11, 3, 12, 0, tzinfo=UTC), datetime(2018, 11, 4, 3, 30, tzinfo=UTC)]),
    ],
)
def test_skip_scan_dates_find_a_day_that_begins_at_a_midnight_that_happens_twice(bot, zone, moments):
    messages(bot, moments)
    queryset = OutboundMessage.objects.all()
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        days = [d.date() for d in with_skip_scan_dates(queryset).datetimes("created_at", "day")]
        assert days == [d.date() for d in QuerySet.datetimes(queryset, "created_at", "day")]
    assert len(days) == 2, days


@pytest.mark.django_db
def test_skip_scan_dates_of_no_rows_at_all(bot):
    messages(bot, MOMENTS)
    for queryset in (OutboundMessage.objects.none(), OutboundMessage.objects.filter(pk__in=[])):
        assert list(with_skip_scan_dates(queryset).datetimes("created_at", "year")) == []


@pytest.mark.django_db
def test_a_staff_user_of_no_tenant_sees_empty_big_lists(client, django_user_model, bot):
    from django.contrib.auth.models import Permission

    messages(bot, MOMENTS)
    user = django_user_model.objects.create_user("nobody-staff", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="sinch_whatsapp"))
    client.force_login(user)
    for model in ("outboundmessage", "inboundmessage", "callbackevent", "contact"):
        page = client.get(reverse(f"admin:sinch_whatsapp_{model}_changelist"))
        assert page.status_code == 200 and page.context["cl"].result_count == 0, model


def test_an_unindexed_field_keeps_djangos_query(db):
    """``Contact.last_inbound_at`` has no index: a lookup per period would scan the table each time."""
    queryset = with_skip_scan_dates(Contact.objects.all())
    with CaptureQueriesContext(connection) as queries:
        list(queryset.datetimes("last_inbound_at", "year"))
    assert not queries[-1]["sql"].startswith("WITH RECURSIVE")


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_skip_scan_dates_are_one_query_that_reads_a_row_per_period(bot):
    start = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
    messages(bot, [start + timedelta(minutes=7 * i) for i in range(3_000)])  # 15 days, 200 rows a day
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    fast = with_skip_scan_dates(OutboundMessage.objects.all())
    with timezone.override(UTC), CaptureQueriesContext(connection) as queries:
        days = fast.datetimes("created_at", "day")
    assert [d.day for d in days] == list(range(1, 16))
    assert len(queries) == 1
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + queries[0]["sql"])
        plan = cursor.fetchone()[0]
    read = []

    def walk(node):
        if node.get("Relation Name") == OutboundMessage._meta.db_table:
            read.append(node["Actual Rows"] * node["Actual Loops"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    # One row found per period (and one probe past the last), not the 3,000 a DISTINCT would read.
    assert read and sum(read) <= 2 * 16, plan


def test_other_kinds_and_orders_are_djangos_own(db):
    queryset = with_skip_scan_dates(OutboundMessage.objects.all())
    for args in (("created_at", "week"), ("created_at", "day", "DESC"), ("bot__created_at", "year")):
        assert str(queryset.datetimes(*args).query) == str(QuerySet.datetimes(queryset, *args).query)


@pytest.mark.django_db
def test_a_capped_count_counts_up_to_its_limit(bot, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "limit", 5)
    messages(bot, [timezone.now()] * 5)
    paginator = CappedCountPaginator(OutboundMessage.objects.order_by("created_at"), 2)
    assert (paginator.count, paginator.capped, paginator.num_pages) == (5, False, 3)
    messages(bot, [timezone.now()])
    paginator = CappedCountPaginator(OutboundMessage.objects.order_by("created_at"), 2)
    with CaptureQueriesContext(connection) as queries:
        assert (paginator.count, paginator.capped, paginator.num_pages) == (5, True, 3)
    assert "LIMIT 6" in queries[0]["sql"] and "ORDER BY" not in queries[0]["sql"]
    assert CappedCountPaginator(list(range(7)), 2).count == 7  # not a queryset: counted as Django does


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["outboundmessage", "inboundmessage", "callbackevent", "contact"])
def test_the_big_lists_count_no_further_than_the_limit_and_say_so(admin_client, bot, model, monkeypatch):
    monkeypatch.setattr(CappedCountPaginator, "limit", 3)
    now = timezone.now()
    for i in range(5):
        OutboundMessage.objects.create(bot=bot, recipient=f"4670000{i}", message_type="text", payload={})
        InboundMessage.objects.create(
            bot=bot, sinch_message_id=f"in-{i}", from_number=f"4670000{i}", message_type="text"
        )
        CallbackEvent.objects.create(bot=bot, body=b"{}", payload={}, received_at=now)
        Contact.objects.create(bot=bot, number=f"+4670000{i}", last_inbound_at=now)
    url = reverse(f"admin:sinch_whatsapp_{model}_changelist")
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert page.context["cl"].result_count == 3 and page.context["cl"].paginator.capped
    assert 'class="sinch-capped-count' in html and "More than 3" in html
    assert not any(q["sql"].startswith("SELECT COUNT(*) AS") for q in queries), [q["sql"][:80] for q in queries]
    assert 'class="toplinks"' in html  # the date hierarchy is still there
    if model != "outboundmessage":  # read-only, no actions; the others: "select all" counts nothing it did not
        assert "(more than 3)" in html and "All of more than 3 selected" in html and "Select all 3" not in html
    everything = admin_client.get(url, {"all": ""})  # "show all" of an uncounted list: the page, not the table
    assert len(everything.context["cl"].result_list) == 3 and not everything.context["cl"].can_show_all
    filtered = admin_client.get(url, {"q": "4670000"} if model != "callbackevent" else {"processing_state": "pending"})
    assert filtered.status_code == 200
    monkeypatch.setattr(CappedCountPaginator, "limit", 10)
    page = admin_client.get(url)
    assert page.context["cl"].result_count == 5 and not page.context["cl"].paginator.capped
    assert "sinch-capped-count" not in page.content.decode()
