"""The 24-hour customer care window (whatsapp-message.md, message flow), the same on both transports (``kit``)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from django_sinch_whatsapp import services
from django_sinch_whatsapp.client import messages
from django_sinch_whatsapp.exceptions import OutsideCustomerCareWindow
from django_sinch_whatsapp.models import Contact, OutboundMessage

pytestmark = pytest.mark.django_db(transaction=True)


def open_window(bot, number, hours_ago=1.0):
    Contact.objects.update_or_create(
        bot=bot, number=number, defaults={"last_inbound_at": timezone.now() - timedelta(hours=hours_ago)}
    )


def test_text_outside_the_window_is_refused_before_sending(kit, any_transport_bot, fresh_sandbox):
    with pytest.raises(OutsideCustomerCareWindow) as info:
        services.send_text(any_transport_bot, ["46732001122"], "Hi")
    assert "+46732001122" in str(info.value) and "template" in str(info.value)
    assert kit.send_count(fresh_sandbox) == 0
    assert OutboundMessage.objects.count() == 0


def test_window_closes_after_24_hours(kit, any_transport_bot, fresh_sandbox):
    open_window(any_transport_bot, "+46732001122", hours_ago=24.01)
    with pytest.raises(OutsideCustomerCareWindow):
        services.send_text(any_transport_bot, ["46732001122"], "Hi")
    open_window(any_transport_bot, "+46732001122", hours_ago=23.9)
    assert services.send_text(any_transport_bot, ["46732001122"], "Hi").messages[0].state == "queued"


def test_templates_are_always_allowed(kit, any_transport_bot, fresh_sandbox):
    outcome = services.send_message(any_transport_bot, ["46732001122"], messages.template("welcome"))
    assert outcome.messages[0].state == "queued"


def test_mixed_recipients_only_closed_ones_are_refused(kit, any_transport_bot, fresh_sandbox):
    open_window(any_transport_bot, "+46732001122")
    outcome = services.send_text(any_transport_bot, ["46732001122", "46732001133"], "Hi")
    assert [m.recipient for m in outcome.messages] == ["46732001122"]
    assert [(r.raw, "24-hour" in r.reason) for r in outcome.rejected] == [("46732001133", True)]


def test_caller_can_override(kit, any_transport_bot, fresh_sandbox):
    outcome = services.send_text(any_transport_bot, ["46732001122"], "Hi", allow_outside_window=True)
    assert outcome.messages[0].state == "queued"


def test_inbound_message_opens_the_window(kit, client, any_transport_bot, fresh_sandbox):
    # The contact's message arrives as the transport's own signed callback.
    assert kit.post(client, any_transport_bot, kit.inbound_body("in-window")).status_code == 200
    contact = Contact.objects.get(number="+46732001122")
    assert contact.window_open and contact.window_ends_at > timezone.now() + timedelta(hours=23)
    assert services.send_text(any_transport_bot, ["46732001122"], "Thanks!").messages[0].state == "queued"


def test_api_answers_409_outside_the_window(api_user, any_transport_bot, fresh_sandbox):
    api = APIClient()
    api.force_authenticate(api_user)
    response = api.post(
        f"/api/sinch-whatsapp/bots/{any_transport_bot.pk}/send/", {"to": ["46732001122"], "text": "Hi"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "outside_customer_care_window"
