"""docs/howto/admin-console.rst: the console's building blocks used from code."""

from __future__ import annotations

import pytest

from django_sinch_whatsapp.models import MessageState, OutboundMessage


@pytest.mark.django_db(transaction=True)
def test_retry_a_refused_message_once(sandbox_bot, capsys):
    refused = OutboundMessage.objects.create(
        bot=sandbox_bot,
        recipient="46732001122",
        message_type="template",
        payload={"type": "template", "template_name": "order_shipped", "language": "en", "media": {"type": "text"}},
        state=MessageState.ERROR,
        error_status_code=401,
        error_message="Unauthorized",
    )
    lost = OutboundMessage.objects.create(  # a read timeout: the request may have reached Sinch
        bot=sandbox_bot,
        recipient="46732001133",
        message_type="text",
        payload={"type": "text", "text": "hi"},
        state=MessageState.UNKNOWN,
    )
    # [start-retry]
    from django_sinch_whatsapp.services.retry import RetryRefused, retry_message

    outcome = retry_message(refused)  # a new row, sent under the idempotency key "retry:<row id>"
    refused.refresh_from_db()
    print(outcome.sent, refused.retry_send_id == outcome.send_id)  # 1 True: the retry is kept on the row
    for message in (refused, lost):
        try:
            retry_message(message)
        except RetryRefused as err:
            # refused: "This message was already retried (send ...)": a message is retried once.
            # lost: "... is 'unknown' ... run reconciliation first ...", until reconciliation confirms
            # that Sinch never took it (lost.absent_confirmed_at), then it is retried like refused.
            print(err)
    # [end-retry]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "1 True"
    assert "already retried" in printed[1] and "run reconciliation first" in printed[2]
    assert OutboundMessage.objects.count() == 3  # the two rows and the one retry


@pytest.mark.django_db
def test_dashboard_figures_in_code(bot):
    OutboundMessage.objects.bulk_create(
        OutboundMessage(bot=bot, recipient="1", message_type="text", payload={}, state=state)
        for state in ("read", "read", "delivered", "failed", "error")
    )
    # [start-figures]
    from django_sinch_whatsapp.admin.console.dashboard import failures, figures

    numbers = figures(OutboundMessage.objects.filter(bot=bot))  # one GROUP BY query
    print(numbers.total, numbers.delivery_rate, numbers.read_rate)  # 5 75.0 66.7
    print(failures(OutboundMessage.objects.filter(bot=bot)))  # [{"state": "failed", ..., "n": 1}, ...]
    # [end-figures]
    assert (numbers.total, numbers.delivery_rate, numbers.read_rate) == (5, 75.0, 66.7)
