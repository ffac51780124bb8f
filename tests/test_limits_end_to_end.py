"""Each documented limit through the service and the sandbox: at the limit sent, one past refused, nothing sent."""

from __future__ import annotations

import pytest

from django_sinch_whatsapp import services
from django_sinch_whatsapp.client import messages
from django_sinch_whatsapp.client.messages import validation
from django_sinch_whatsapp.exceptions import MessageValidationError
from django_sinch_whatsapp.models import OutboundMessage

from .test_message_builders import LIMIT_CASES, beyond

pytestmark = pytest.mark.django_db(transaction=True)

TEMPLATE_TEXT = {"template.header_params": {"header_text_length": 5}, "template.body_params": {"body_text_length": 20}}


def unvalidated(build, value):
    """What a caller could post as raw JSON: the builder's dict without its checks."""
    original = validation._validate
    validation._validate = lambda message, **kwargs: {k: v for k, v in message.items() if v is not None}
    try:
        return dict(build(value))
    finally:
        validation._validate = original


@pytest.mark.parametrize("limit", messages.LIMITS, ids=lambda limit: limit.name)
def test_limit_at_the_service_and_the_sandbox(limit, sandbox_bot, fresh_sandbox):
    build, field = LIMIT_CASES[limit.name]
    lengths = TEMPLATE_TEXT.get(limit.name, {})
    at_limit = unvalidated(build, limit.limit)
    outcome = services.send_message(sandbox_bot, ["46732001122"], at_limit, allow_outside_window=True, **lengths)
    assert outcome.messages[0].state == "queued", outcome.messages[0].error  # the sandbox agrees
    assert fresh_sandbox.count("POST", "/messages") == 1
    past = unvalidated(build, beyond(limit, limit.limit, +1))
    with pytest.raises(MessageValidationError) as info:
        services.send_message(sandbox_bot, ["46732001122"], past, allow_outside_window=True, **lengths)
    assert info.value.field == field
    assert fresh_sandbox.count("POST", "/messages") == 1  # nothing more was sent
    assert OutboundMessage.objects.count() == 1  # and nothing recorded as sent
