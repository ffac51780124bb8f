"""The long commands: --dry-run changes nothing, progress on stderr (a bar on a terminal, lines otherwise),
and one summary line on stdout."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from django_sinch_whatsapp.management import progress as progress_module
from django_sinch_whatsapp.models import CallbackEvent, IdempotencyKey, MessageState, OutboundMessage, ProcessingState

from .tenant_probe import build_foreign_objects, snapshot

pytestmark = pytest.mark.django_db(transaction=True)

LONG_AGO = timezone.now() - timedelta(days=40)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def world(sandbox_bot, fresh_sandbox):
    """One row of every model (tenant_probe), aged so that every command has work to do."""
    bot = sandbox_bot
    objects = build_foreign_objects(bot)
    CallbackEvent.objects.update(received_at=LONG_AGO, processing_state=ProcessingState.FAILED)
    extra = CallbackEvent.objects.first()
    extra.pk = None
    extra.nonce = "another"
    extra.processing_state = ProcessingState.PROCESSED
    extra.save()
    CallbackEvent.objects.filter(pk=extra.pk).update(received_at=LONG_AGO)
    IdempotencyKey.objects.update(created_at=LONG_AGO)
    OutboundMessage.objects.update(
        created_at=LONG_AGO,
        state=MessageState.ACCEPTED,
        dispatched_at=None,
        batch_id=uuid.uuid4(),
        message_type="text",
        payload={"type": "text", "text": "hi"},
    )
    OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={"type": "text", "text": "hi"}, state="sent",
        sinch_message_id="stuck-1",
    )  # fmt: skip
    OutboundMessage.objects.filter(sinch_message_id="stuck-1").update(created_at=LONG_AGO)
    return objects


COMMANDS = [
    ("sinch_whatsapp_reconcile", [], "Dry run: would re-dispatch 1 batch(es), mark 0 unfinished dispatch(es) unknown"),
    ("sinch_whatsapp_reprocess_callbacks", [], "Dry run: would reprocess 1 callback(s) (1 failed)"),
    ("sinch_whatsapp_rotate_keys", [], "Dry run: would re-encrypt 2 secret(s) of 1 bot(s)"),
    ("sinch_whatsapp_prune_callbacks", [], "Dry run: would delete 1 callback(s)"),
    ("sinch_whatsapp_prune_idempotency_keys", [], "Dry run: would delete 1 idempotency key(s)"),
]


@pytest.mark.parametrize(("name", "args", "expected"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_a_dry_run_changes_nothing_and_says_what_it_would_do(world, sandbox_bot, fresh_sandbox, name, args, expected):
    bot = sandbox_bot
    before = snapshot(bot.tenant_id)
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, "--dry-run", stdout=out, stderr=err)
    assert snapshot(bot.tenant_id) == before, f"{name} --dry-run changed data"
    assert fresh_sandbox.requests_log == []
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), lines
    # The same command without --dry-run does change the data: the comparison above can fail.
    call_command(name, *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert snapshot(bot.tenant_id) != before, f"{name} changed nothing: the dry-run test proves nothing"


def test_without_a_terminal_progress_is_plain_lines_on_stderr(world, sandbox_bot, monkeypatch):
    bot = sandbox_bot
    monkeypatch.setattr(progress_module, "DELETE_CHUNK", 1)
    for n in range(25):
        IdempotencyKey.objects.create(bot=bot, scope="tenant:1", key=f"k-{n}", request_digest="d", send_id=uuid.uuid4())
    IdempotencyKey.objects.update(created_at=LONG_AGO)
    out, err = io.StringIO(), io.StringIO()
    call_command("sinch_whatsapp_prune_idempotency_keys", stdout=out, stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[-1] == "Deleting idempotency keys: 26/26"
    assert 3 <= len(lines) <= 14 and all(line.startswith("Deleting idempotency keys: ") for line in lines)
    assert out.getvalue().splitlines() == ["Deleted 26 idempotency key(s) older than 48 hours."]


def test_on_a_terminal_a_bar_is_drawn_and_stdout_keeps_one_line(world):
    out, err = io.StringIO(), Terminal()
    call_command("sinch_whatsapp_reprocess_callbacks", "--all", stdout=out, stderr=err)
    assert "Reprocessing callbacks" in err.getvalue()
    assert len(out.getvalue().splitlines()) == 1 and out.getvalue().startswith("Reprocessed 2 callback(s): ")


def test_reconcile_logs_the_same_summary_it_prints(world, caplog):
    out = io.StringIO()
    with caplog.at_level("INFO", logger="django_sinch_whatsapp.reconciliation"):
        call_command("sinch_whatsapp_reconcile", "--dry-run", stdout=out)
    assert [r.getMessage() for r in caplog.records] == out.getvalue().splitlines()
