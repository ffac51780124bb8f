"""The webhook's savepoint (django_sinch_whatsapp.savepoints): atomic()'s guarantees, two round trips fewer."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from django_sinch_whatsapp import savepoints
from django_sinch_whatsapp.models import Contact

pytestmark = pytest.mark.django_db(transaction=True)


def names() -> set[str]:
    return set(Contact.objects.values_list("number", flat=True))


def test_a_block_that_succeeds_keeps_its_rows_and_callbacks_and_sends_no_release(bot):
    ran: list[str] = []
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        Contact.objects.create(bot=bot, number="before")
        with savepoints.savepoint(savepoints.new_name()):
            Contact.objects.create(bot=bot, number="inside")
            transaction.on_commit(lambda: ran.append("inside"))
        assert connection.savepoint_ids == []
    assert names() == {"before", "inside"} and ran == ["inside"]
    sql = [q["sql"].upper() for q in queries.captured_queries]
    assert sum(s.startswith("SAVEPOINT") for s in sql) == 1
    assert not any("RELEASE" in s for s in sql)


def test_a_failure_rolls_back_to_the_savepoint_and_drops_its_callbacks(bot):
    ran: list[str] = []
    with transaction.atomic():
        Contact.objects.create(bot=bot, number="before")
        transaction.on_commit(lambda: ran.append("before"))
        with pytest.raises(RuntimeError), savepoints.savepoint(savepoints.new_name()):
            Contact.objects.create(bot=bot, number="inside")
            transaction.on_commit(lambda: ran.append("inside"))
            raise RuntimeError("processing failed")
        Contact.objects.create(bot=bot, number="after")  # the transaction is usable again
    assert names() == {"before", "after"} and ran == ["before"]


def test_a_database_error_inside_leaves_the_transaction_usable(bot):
    Contact.objects.create(bot=bot, number="taken")
    with transaction.atomic():
        with pytest.raises(IntegrityError), savepoints.savepoint(savepoints.new_name()):
            Contact.objects.create(bot=bot, number="taken")
        assert not connection.needs_rollback
        Contact.objects.create(bot=bot, number="after")
    assert names() == {"taken", "after"}


def test_a_caught_failure_of_an_inner_block_without_savepoint_rolls_the_block_back(bot):
    with transaction.atomic():
        with savepoints.savepoint(savepoints.new_name()):
            Contact.objects.create(bot=bot, number="inside")
            try:
                with transaction.atomic(savepoint=False):
                    Contact.objects.create(bot=bot, number="inside")  # a duplicate: the transaction is broken
            except IntegrityError:
                pass
        assert not connection.needs_rollback
        Contact.objects.create(bot=bot, number="after")
    assert names() == {"after"}


def test_a_savepoint_the_caller_created_is_used_not_created_again(bot):
    name = savepoints.new_name()
    with transaction.atomic():
        Contact.objects.create(bot=bot, number="before")
        with connection.cursor() as cursor:
            cursor.execute(savepoints.create_sql(name))
        with (
            CaptureQueriesContext(connection) as queries,
            pytest.raises(RuntimeError),
            savepoints.savepoint(name, created=True),
        ):
            Contact.objects.create(bot=bot, number="inside")
            raise RuntimeError
    assert names() == {"before"}
    sql = [q["sql"].upper() for q in queries.captured_queries]
    assert not any(s.startswith("SAVEPOINT") for s in sql)
    assert any(s.startswith("ROLLBACK TO SAVEPOINT") for s in sql)


def test_outside_a_transaction_or_in_a_broken_one_it_refuses():
    with pytest.raises(TransactionManagementError, match="atomic block"), savepoints.savepoint(savepoints.new_name()):
        pass
    with transaction.atomic():
        connection.set_rollback(True)
        with pytest.raises(TransactionManagementError, match="failed"), savepoints.savepoint(savepoints.new_name()):
            pass


def test_a_transactions_first_savepoint_has_the_same_name_every_time_and_its_own_callbacks(bot):
    assert savepoints.new_name(first=True) == savepoints.new_name(first=True) == savepoints.FIRST
    assert savepoints.new_name() != savepoints.new_name()
    ran: list[str] = []
    for attempt in ("one", "two"):  # two transactions, each with the name once: each keeps its own callbacks
        with transaction.atomic():
            with savepoints.savepoint(savepoints.new_name(first=True)):
                Contact.objects.create(bot=bot, number=attempt)
                transaction.on_commit(lambda attempt=attempt: ran.append(attempt))
            with pytest.raises(RuntimeError), savepoints.savepoint(savepoints.new_name()):
                transaction.on_commit(lambda: ran.append("dropped"))
                raise RuntimeError("a later block failed")
    assert names() == {"one", "two"} and ran == ["one", "two"]
