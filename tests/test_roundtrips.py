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


# --- BEGIN with the first statements (PostgreSQL: what psycopg puts on the wire) ---------------------


def _numbers() -> set[str]:
    return set(Contact.objects.values_list("number", flat=True))


@pytest.mark.postgres_only
def test_begin_travels_with_the_first_statements_and_they_are_one_transaction(bot):
    from .wire_trace import wire_trace

    with wire_trace() as trace, transaction.atomic():
        roundtrips.execute_together([insert(bot, "+1"), insert(bot, "+2")], begin=True)
        transaction.set_rollback(True)
    first, *rest = trace.queries
    assert first.startswith("BEGIN; INSERT") and "BEGIN" not in rest and rest == ["ROLLBACK"], trace.queries
    assert _numbers() == set()  # had psycopg's autocommit run them outside a transaction, they would stay

    with wire_trace() as trace, transaction.atomic():
        roundtrips.execute_together([insert(bot, "+3")], begin=True)
    assert [q.split(" ", 2)[:2] for q in trace.queries] == [["BEGIN;", "INSERT"], ["COMMIT"]]
    assert _numbers() == {"+3"}
    # After the block psycopg and Django agree again, and the next transaction is psycopg's own.
    assert connection.connection.autocommit is True and connection.get_autocommit() is True
    with wire_trace() as trace, transaction.atomic():
        roundtrips.execute_together([insert(bot, "+4")])
    assert trace.queries[0] == "BEGIN" and trace.queries[-1] == "COMMIT"


@pytest.mark.postgres_only
def test_a_failed_statement_rolls_back_the_transaction_begun_with_it(bot):
    Contact.objects.create(bot=bot, number="+1")
    with pytest.raises(IntegrityError), transaction.atomic():
        roundtrips.execute_together([insert(bot, "+2"), insert(bot, "+1")], begin=True)
    assert _numbers() == {"+1"}
    assert connection.connection.autocommit is True and connection.get_autocommit() is True
    with transaction.atomic():
        roundtrips.execute_together([insert(bot, "+5")], begin=True)
    assert _numbers() == {"+1", "+5"}


@pytest.mark.postgres_only
def test_begin_is_not_sent_twice_once_the_transaction_has_started(bot):
    from .wire_trace import wire_trace

    with wire_trace() as trace, transaction.atomic():
        Contact.objects.create(bot=bot, number="+1")  # psycopg's own BEGIN went before this
        assert not roundtrips.transaction_not_started()
        roundtrips.execute_together([insert(bot, "+2")], begin=True)
        with transaction.atomic():  # a nested block: a savepoint, never a second BEGIN
            roundtrips.execute_together([insert(bot, "+3")], begin=True)
    assert trace.queries[0] == "BEGIN" and not any(q.startswith("BEGIN;") for q in trace.queries), trace.queries
    assert _numbers() == {"+1", "+2", "+3"}


@pytest.mark.postgres_only
def test_an_isolation_level_of_psycopgs_own_keeps_its_begin(bot):
    from psycopg import IsolationLevel

    from .wire_trace import wire_trace

    connection.ensure_connection()
    connection.connection.isolation_level = IsolationLevel.SERIALIZABLE
    try:
        with wire_trace() as trace, transaction.atomic():
            roundtrips.execute_together([insert(bot, "+1"), ("SHOW transaction_isolation", [])], begin=True)
    finally:
        connection.connection.isolation_level = None
    assert trace.queries[0] == "BEGIN ISOLATION LEVEL SERIALIZABLE", trace.queries
    assert _numbers() == {"+1"}


def test_begin_changes_nothing_where_statements_are_not_combined(bot, settings):
    options = settings.DATABASES["default"].setdefault("OPTIONS", {})
    options["server_side_binding"] = True  # on SQLite this changes nothing: it never combines
    try:
        with transaction.atomic():
            assert roundtrips.transaction_not_started() is False
            results = roundtrips.execute_together([insert(bot, "+1"), (f"SELECT number FROM {TABLE}", [])], begin=True)
    finally:
        del options["server_side_binding"]
    assert results == [[], [("+1",)]]
