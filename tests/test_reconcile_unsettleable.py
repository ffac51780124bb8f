"""Unknown rows without a Sinch id: reconciliation cannot ask Sinch about them, so it says how many wait."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from django_sinch_whatsapp import services
from django_sinch_whatsapp.models import OutboundMessage
from django_sinch_whatsapp.services.reconciliation import unknown_without_sinch_id

pytestmark = pytest.mark.django_db(transaction=True)


def test_dropped_sends_are_counted_with_their_age_in_the_summary(
    sandbox_bot, fresh_sandbox, make_bot, other_organization
):
    fresh_sandbox.faults.drop_next(2, path_contains="/messages")  # Sinch may have got them; no answer
    services.send_text(sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True)
    services.send_text(sandbox_bot, ["46732001123"], "Hi", allow_outside_window=True)
    services.send_text(sandbox_bot, ["46732001124"], "Hi", allow_outside_window=True)  # answered
    assert sorted(OutboundMessage.objects.values_list("state", flat=True)) == ["queued", "unknown", "unknown"]
    OutboundMessage.objects.filter(recipient="46732001122").update(created_at=timezone.now() - timedelta(hours=3))
    # An unknown row that has a Sinch id is reconciliation's normal work, not counted.
    OutboundMessage.objects.filter(state="queued").update(state="unknown")

    summary = unknown_without_sinch_id()
    assert summary.count == 2
    assert summary.oldest_age is not None and timedelta(hours=3) <= summary.oldest_age < timedelta(hours=3, minutes=1)
    other_bot = make_bot(tenant=other_organization, sinch_bot_id="other-bot")
    assert unknown_without_sinch_id(OutboundMessage.objects.filter(bot=other_bot)).count == 0
    assert unknown_without_sinch_id(OutboundMessage.objects.filter(bot=sandbox_bot)).count == 2

    out = StringIO()
    call_command("sinch_whatsapp_reconcile", stdout=out)
    assert "2 message(s) in state unknown have no Sinch id (oldest recorded 3.0 h ago)" in out.getvalue()


def test_summary_is_silent_when_nothing_waits(db):
    assert unknown_without_sinch_id().count == 0
    assert unknown_without_sinch_id().oldest_age is None
    out = StringIO()
    call_command("sinch_whatsapp_reconcile", stdout=out)
    assert "no Sinch id" not in out.getvalue()
