"""docs/howto/admin-console.rst: the console's building blocks used from code."""

from __future__ import annotations

import pytest

from django_sinch_whatsapp.models import MessageState, OutboundMessage


@pytest.mark.django_db(transaction=True)
def test_retry_a_refused_message_once(sandbox_bot):
    refused = OutboundMessage.objects.create(
        bot=sandbox_bot,
        recipient="46732001122",
        message_type="template",
        payload={"type": "template", "template_name": "order_shipped", "language": "en", "media": {"type": "text"}},
        state=MessageState.ERROR,
        error_status_code=401,
        error_message="Unauthorized",
    )
    # [start-retry]
    from django_sinch_whatsapp.services.retry import RetryRefused, retry_message

    outcome = retry_message(refused)  # a new row, sent under the idempotency key "retry:<row id>"
    again = retry_message(refused)  # a second click: replayed, nothing is sent
    assert outcome.sent == 1 and again.replayed

    refused.state = MessageState.UNKNOWN  # the request may have reached Sinch
    try:
        retry_message(refused)
    except RetryRefused as err:
        print(err)  # "... Retrying could send it twice ..."
    # [end-retry]
    assert OutboundMessage.objects.count() == 2


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
