"""Contacts, opt-in/out, capability and inbound messages through the API, against the sandbox."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from django_sinch_whatsapp.models import Contact, InboundMessage

from .webhook_helpers import inbound_text_payload, post_callback

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(api_user):
    client = APIClient()
    client.force_authenticate(api_user)
    return client


def test_opt_in_and_out_record_who_and_when(api, api_user, sandbox_bot, fresh_sandbox):
    response = api.post(
        f"/api/sinch-whatsapp/bots/{sandbox_bot.pk}/opt-in/", {"numbers": ["46732001122", "nope"]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["done"] == ["+46732001122"]
    assert response.json()["rejected"][0]["number"] == "nope"
    contact = Contact.objects.get(number="+46732001122")
    assert contact.opt_in_state == "opted_in" and contact.opt_in_source == "api:alice" and contact.opt_in_changed_at
    response = api.post(
        f"/api/sinch-whatsapp/bots/{sandbox_bot.pk}/opt-out/", {"numbers": ["46732001122"]}, format="json"
    )
    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.opt_in_state == "opted_out"
    assert fresh_sandbox.count("DELETE", "/provision/optin") == 1


def test_capability_is_checked_and_stored(api, sandbox_bot, fresh_sandbox):
    fresh_sandbox.set_capability(sandbox_bot.sinch_bot_id, "46732001133", False)
    response = api.post(
        f"/api/sinch-whatsapp/bots/{sandbox_bot.pk}/capability/",
        {"numbers": ["46732001122", "46732001133"]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["capable"] == {"+46732001122": True, "+46732001133": False}
    listed = api.get(f"/api/sinch-whatsapp/contacts/?bot={sandbox_bot.pk}").json()["results"]
    assert {c["number"]: c["capability"] for c in listed} == {"+46732001122": "capable", "+46732001133": "not_capable"}


def test_sinch_errors_from_services_become_responses(api, make_bot, fresh_sandbox):
    bot = make_bot(base_url_override=fresh_sandbox.region_url("us"), bearer_token="wrong")
    fresh_sandbox.register_bot(bot.sinch_bot_id, "right", region="us")
    response = api.post(f"/api/sinch-whatsapp/bots/{bot.pk}/opt-in/", {"numbers": ["46732001122"]}, format="json")
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "sinch_unauthorized"
    assert "wrong" not in response.content.decode().replace("wrong token", "")


def test_contact_shows_the_window_and_inbound_can_be_marked_read(api, client, sandbox_bot, fresh_sandbox):
    message_id = fresh_sandbox.inject_inbound(sandbox_bot.sinch_bot_id, "46732001122", text="hello")
    payload = inbound_text_payload(message_id, "hello")
    from django.utils import timezone

    payload["notifications"][0]["timestamp"] = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert post_callback(client, sandbox_bot, payload).status_code == 200
    [contact] = api.get("/api/sinch-whatsapp/contacts/").json()["results"]
    assert contact["window_open"] is True and contact["window_ends_at"]
    [inbound] = api.get("/api/sinch-whatsapp/inbound/").json()["results"]
    assert inbound["text"] == "hello" and inbound["read_at"] is None
    response = api.post(f"/api/sinch-whatsapp/inbound/{inbound['id']}/mark-read/")
    assert response.status_code == 200 and response.json()["read_at"]
    assert InboundMessage.objects.get().read_at is not None
    assert fresh_sandbox.count("POST", "/events") == 1


def test_other_tenants_contacts_and_inbound_are_invisible(api, make_bot, other_organization):
    theirs = make_bot(tenant=other_organization, sinch_bot_id="theirs")
    contact = Contact.objects.create(bot=theirs, number="+46732001122")
    inbound = InboundMessage.objects.create(bot=theirs, sinch_message_id="x", from_number="1", message_type="text")
    assert api.get("/api/sinch-whatsapp/contacts/").json()["results"] == []
    assert api.get(f"/api/sinch-whatsapp/contacts/{contact.pk}/").status_code == 404
    assert api.post(f"/api/sinch-whatsapp/inbound/{inbound.pk}/mark-read/").status_code == 404


def test_openapi_schema_generates_without_warnings(capsys):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_sinch_5xx_is_503_with_retry_after(api, sandbox_bot, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=500, path_contains="/messages")
    response = api.post(
        f"/api/sinch-whatsapp/bots/{sandbox_bot.pk}/send/",
        {"to": ["46732001122"], "text": "hi", "allow_outside_window": True},
        format="json",
    )
    assert response.status_code == 503
    assert response["Retry-After"]
    body = response.json()
    assert body["error"]["code"] == "sinch_unavailable" and body["error"]["sinch_status"] == 500
    assert body["messages"][0]["state"] == "error"


def test_send_with_unknown_outcome_is_202_and_says_so(api, sandbox_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "READ_TIMEOUT": 0.3}
    fresh_sandbox.faults.slow_next(1, 1.0, path_contains="/messages")
    response = api.post(
        f"/api/sinch-whatsapp/bots/{sandbox_bot.pk}/send/",
        {"to": ["46732001122"], "text": "hi", "allow_outside_window": True},
        format="json",
    )
    assert response.status_code == 202
    assert response.json()["error"]["code"] == "sinch_outcome_unknown"
    assert response.json()["messages"][0]["state"] == "unknown"
