"""The webhook's first statements in one round trip (django_sinch_whatsapp.roundtrips)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

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
def pipelines(monkeypatch):
    """How many psycopg pipelines were opened (none off PostgreSQL)."""
    opened = [0]
    if roundtrips.can_pipeline():
        raw = type(connection.connection)
        original = raw.pipeline

        def counting(self):
            opened[0] += 1
            return original(self)

        monkeypatch.setattr(raw, "pipeline", counting)
    return opened


def test_statements_run_in_order_and_each_gives_its_rows(bot, pipelines):
    with transaction.atomic():
        results = roundtrips.execute_together(
            [insert(bot, "+1"), insert(bot, "+2"), (f"SELECT number FROM {TABLE} ORDER BY number", [])]
        )
    assert results == [[], [], [("+1",), ("+2",)]]
    assert pipelines[0] == (1 if connection.vendor == "postgresql" else 0)


def test_an_error_is_djangos_and_nothing_after_it_takes_effect(bot, pipelines):
    Contact.objects.create(bot=bot, number="+1")
    with pytest.raises(IntegrityError), transaction.atomic():
        roundtrips.execute_together([insert(bot, "+2"), insert(bot, "+1"), insert(bot, "+3")])
    assert set(Contact.objects.values_list("number", flat=True)) == {"+1"}
    with transaction.atomic():  # the connection is usable again
        roundtrips.execute_together([insert(bot, "+4")])
    assert set(Contact.objects.values_list("number", flat=True)) == {"+1", "+4"}


def test_the_pipeline_is_used_wherever_the_driver_has_it():
    if connection.vendor == "postgresql":
        import psycopg

        assert roundtrips.can_pipeline() is psycopg.Pipeline.is_supported()
    else:
        assert roundtrips.can_pipeline() is False
