"""Sends in JSON, form-encoded and multipart bodies; the send page of the browsable API; the window answer."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from django_sinch_whatsapp.models import Contact, OutboundMessage

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def api(api_user):
    client = APIClient()
    client.force_authenticate(api_user)
    return client


def url(bot, action="send"):
    return f"/api/sinch-whatsapp/bots/{bot.pk}/{action}/"


def test_a_multipart_send_works(api, sandbox_bot):
    body = {"to": ["46732001122", "46732001133"], "text": "Hi", "allow_outside_window": "true"}
    response = api.post(url(sandbox_bot), body, format="multipart")
    assert response.status_code == 201, response.content
    assert sorted(m["recipient"] for m in response.json()["messages"]) == ["46732001122", "46732001133"]
    assert all(m["payload"]["text"] == "Hi" for m in response.json()["messages"])


def test_a_form_send_takes_comma_separated_numbers_and_a_json_message(api, sandbox_bot):
    template = {"type": "template", "template_name": "order_shipped", "language": "en_US", "body_params": ["Anna"]}
    body = urlencode({"to": "46732001122, 46732001133", "message": json.dumps(template)})
    response = api.post(url(sandbox_bot), body, content_type=FORM)
    assert response.status_code == 201, response.content
    assert {m["message_type"] for m in response.json()["messages"]} == {"template"}
    assert OutboundMessage.objects.count() == 2


def test_a_form_message_that_is_not_json_names_the_field(api, sandbox_bot):
    response = api.post(url(sandbox_bot), urlencode({"to": "46732001122", "message": "{nope"}), content_type=FORM)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["message"]
    assert "Not valid JSON" in response.json()["error"]["fields"]["message"][0]


def test_opt_in_takes_a_form_too(api, sandbox_bot):
    response = api.post(
        url(sandbox_bot, "opt-in"), urlencode({"numbers": "46732001122,46732001133"}), content_type=FORM
    )
    assert response.status_code == 200, response.content
    assert response.json()["done"] == ["+46732001122", "+46732001133"]


def test_the_browsable_send_page_shows_the_send_fields(api, sandbox_bot):
    html = api.get(url(sandbox_bot), HTTP_ACCEPT="text/html").content.decode()
    for field in ("to", "text", "message", "allow_outside_window", "callback_url"):
        assert f'name="{field}"' in html, field
    assert 'name="sinch_bot_id"' not in html and 'name="bearer_token"' not in html


def _closed(bot, *numbers):
    for number in numbers:
        Contact.objects.create(bot=bot, number=number, last_inbound_at=timezone.now() - timedelta(hours=30))


def test_the_window_answer_is_the_same_for_one_and_for_many(api, sandbox_bot):
    _closed(sandbox_bot, "+46732001122", "+46732001133")
    one = api.post(url(sandbox_bot), {"to": ["46732001122"], "text": "Hi"}, format="json")
    many = api.post(url(sandbox_bot), {"to": ["46732001122", "46732001133"], "text": "Hi"}, format="json")
    assert one.status_code == many.status_code == 409
    for response, count in ((one, 1), (many, 2)):
        body = response.json()
        assert body["error"]["code"] == "outside_customer_care_window"
        assert '"allow_outside_window": true' in body["error"]["message"]
        assert "allow_outside_window=True" not in response.content.decode()
        assert body["messages"] == [] and len(body["rejected"]) == count
    # A send where some recipients are inside their window gives the refused ones the same reason.
    Contact.objects.create(bot=sandbox_bot, number="+46732001144", last_inbound_at=timezone.now())
    mixed = api.post(url(sandbox_bot), {"to": ["46732001122", "46732001144"], "text": "Hi"}, format="json")
    assert mixed.status_code == 201
    assert mixed.json()["rejected"] == [{"to": "46732001122", "reason": one.json()["rejected"][0]["reason"]}]
