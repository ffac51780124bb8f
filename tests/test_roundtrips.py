"""The webhook's first statements in one round trip (django_sinch_whatsapp.roundtrips)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from django_sinch_whatsapp import roundtrips
from django_sinch_whatsapp.models import Contact

pytestmark = pytest.mark.django_db(transaction=True)

TABLE = Contact._meta.db_table


def insert(bot, number: str) -> roundtrips.Statement:
    return (
        f"INSERT INTO {TABLE} (bot_id, number, profile_name, opt_in_state, opt_in_source, capability, created_at, updated_at) "
        "VALUES (%s, %s, '', 'unknown', '', 'unknown', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        [bot.pk, number],
    )


@pytest.fixture
def queries():
    with CaptureQueriesContext(connection) as captured:
        yield captured


def test_statements_run_in_order_and_each_gives_its_rows(bot, queries):
    with transaction.atomic():
        results = roundtrips.execute_together(
            [insert(bot, "+1"), insert(bot, "+2"), (f"SELECT number FROM {TABLE} ORDER BY number", [])]
        )
    assert results == [[], [], [("+1",), ("+2",)]]
    sent = [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT"))
    ]
    assert len(sent) == (1 if connection.vendor == "postgresql" else 3), sent  # one round trip on PostgreSQL


def test_an_error_is_djangos_and_nothing_after_it_takes_effect(bot):
    Contact.objects.create(bot=bot, number="+1")
    with pytest.raises(IntegrityError), transaction.atomic():
        roundtrips.execute_together([insert(bot, "+2"), insert(bot, "+1"), insert(bot, "+3")])
    assert set(Contact.objects.values_list("number", flat=True)) == {"+1"}
    with transaction.atomic():  # the connection is usable again
        roundtrips.execute_together([insert(bot, "+4")])
    assert set(Contact.objects.values_list("number", flat=True)) == {"+1", "+4"}


def test_statements_are_combined_only_where_the_driver_runs_several(settings):
    assert roundtrips.can_combine() is (connection.vendor == "postgresql")
    options = settings.DATABASES["default"].setdefault("OPTIONS", {})
    options["server_side_binding"] = True  # psycopg's server-side binding takes one statement per execute()
    try:
        assert roundtrips.can_combine() is False
    finally:
        del options["server_side_binding"]


def test_a_statement_with_a_semicolon_of_its_own_is_refused_where_statements_are_combined(bot):
    statements = [(f"SELECT count(*) FROM {TABLE}", []), ("SELECT 3", [])]
    with transaction.atomic():
        assert roundtrips.execute_together(statements) == [[(0,)], [(3,)]]
    if connection.vendor == "postgresql":  # SQLite runs one statement per execute(): nothing to check there
        with pytest.raises(ValueError, match="2 statements gave 3 results"), transaction.atomic():
            roundtrips.execute_together([("SELECT 1; SELECT 2", []), ("SELECT 3", [])])
