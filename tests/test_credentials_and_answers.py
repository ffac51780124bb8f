"""Credentials and answers that cannot work are refused where they enter (issue 7, item 6).

A bearer token HTTP cannot carry is refused by the admin form and the API; one stored some other way
fails every call in our error tree (a send's rows are ``error``). A 3xx from Sinch is an error for every
call, and redirects are never followed. All against the sandbox over real HTTP.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from django_sinch_whatsapp import services
from django_sinch_whatsapp.clients import client_for_bot
from django_sinch_whatsapp.exceptions import SinchCredentialsUnusable, SinchUnexpectedAnswer
from django_sinch_whatsapp.models import Bot, Capability, Contact, InboundMessage, MessageState, OptInState

from .conftest import TOKEN
from .test_admin import bot_form_data, changelist

pytestmark = pytest.mark.django_db(transaction=True)

# A trailing space or line break is trimmed (the token is then fine); these cannot be fixed by trimming.
BAD_TOKENS = ["tokenΩ", "token with space", "tokén", "tok\nen", "tok\ten", "token\u200b"]


@pytest.fixture
def api(api_user):
    client = APIClient()
    client.force_authenticate(api_user)
    return client


# -- refused where they enter --------------------------------------------------------------------------


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_the_admin_form_refuses_a_token_http_cannot_carry(admin_client, organization, token):
    response = admin_client.post(
        reverse("admin:sinch_whatsapp_bot_add"),
        bot_form_data(tenant=organization.pk, name="New", sinch_bot_id="new-bot", bearer_token=token),
    )
    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["bearer_token"]
    assert "printable ASCII" in error and "HTTP header" in error
    assert token.strip() not in error  # the secret is never echoed
    assert not Bot.objects.filter(sinch_bot_id="new-bot").exists()


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_the_api_refuses_a_token_http_cannot_carry(api, organization, bot, token):
    body = {"tenant": organization.pk, "name": "New", "sinch_bot_id": "new-bot", "region": "eu", "bearer_token": token}
    created = api.post("/api/sinch-whatsapp/bots/", body, format="json")
    assert created.status_code == 400 and "printable ASCII" in created.json()["error"]["fields"]["bearer_token"][0]
    assert not Bot.objects.filter(sinch_bot_id="new-bot").exists()
    changed = api.patch(f"/api/sinch-whatsapp/bots/{bot.pk}/", {"bearer_token": token}, format="json")
    assert changed.status_code == 400 and "bearer_token" in changed.json()["error"]["fields"]
    assert Bot.objects.get(pk=bot.pk).bearer_token.reveal() == TOKEN


def test_a_printable_ascii_token_is_still_accepted(api, organization):
    token = "AbC-123._~+/="
    body = {"tenant": organization.pk, "name": "New", "sinch_bot_id": "new-bot", "region": "eu", "bearer_token": token}
    assert api.post("/api/sinch-whatsapp/bots/", body, format="json").status_code == 201
    assert Bot.objects.get(sinch_bot_id="new-bot").bearer_token.reveal() == token


# -- a token stored some other way fails in our error tree, before any request ------------------------------


@pytest.fixture
def stored_bad_token_bot(make_bot, fresh_sandbox):
    # Bot.objects.create skips validation: as a data migration or a shell would.
    bot = make_bot(bearer_token="tokenΩ", base_url_override=fresh_sandbox.region_url("us"))
    fresh_sandbox.register_bot(bot.sinch_bot_id, TOKEN, region="us")
    return bot


def test_a_send_with_a_stored_bad_token_records_error_rows(stored_bad_token_bot, fresh_sandbox):
    outcome = services.send_text(stored_bad_token_bot, ["46732001122"], "Hi", allow_outside_window=True)
    [row] = outcome.messages
    assert row.state == MessageState.ERROR
    assert "bearer token cannot be sent" in row.error_message and "printable ASCII" in row.error_details
    assert isinstance(outcome.errors[0], SinchCredentialsUnusable)
    assert fresh_sandbox.requests_log == []


def test_numbers_calls_with_a_stored_bad_token_fail_in_the_outcome(stored_bad_token_bot, fresh_sandbox):
    for call in (services.opt_in, services.opt_out, services.check_capability):
        outcome = call(stored_bad_token_bot, ["46732001122"])
        assert outcome.done == [] and isinstance(outcome.failed[0].error, SinchCredentialsUnusable)
    contact = Contact.objects.filter(bot=stored_bad_token_bot).first()
    assert contact is None or contact.opt_in_state != OptInState.OPTED_IN
    inbound = InboundMessage.objects.create(
        bot=stored_bad_token_bot, sinch_message_id="in-1", from_number="46732001122", received_at=timezone.now()
    )
    with pytest.raises(SinchCredentialsUnusable):
        services.mark_read(inbound)
    assert fresh_sandbox.requests_log == []


def test_the_api_answers_a_stored_bad_token_with_our_error_not_a_500(api, stored_bad_token_bot, fresh_sandbox):
    base = f"/api/sinch-whatsapp/bots/{stored_bad_token_bot.pk}"
    for suffix in ("opt-in", "opt-out", "capability"):
        response = api.post(f"{base}/{suffix}/", {"numbers": ["46732001122"]}, format="json")
        assert response.status_code == 502, (suffix, response.content)
        assert "bearer token cannot be sent" in response.json()["error"]["message"]
    sent = api.post(f"{base}/send/", {"to": ["46732001122"], "text": "Hi", "allow_outside_window": True}, format="json")
    assert sent.status_code == 502 and sent.json()["messages"][0]["state"] == "error"
    assert fresh_sandbox.requests_log == []


def test_verify_credentials_with_a_stored_bad_token_says_so(admin_client, stored_bad_token_bot, fresh_sandbox):
    response = admin_client.post(
        changelist("bot"),
        {"action": "verify_credentials", "_selected_action": [str(stored_bad_token_bot.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert "bearer token cannot be sent" in response.content.decode()
    assert fresh_sandbox.requests_log == []


# -- a 3xx is an error for every call, never followed -------------------------------------------------------


def test_opt_in_answered_302_is_a_failure_and_the_contact_stays_unknown(sandbox_bot, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=302, path_contains="/provision/optin")
    outcome = services.opt_in(sandbox_bot, ["46732001122"])
    assert outcome.done == []
    error = outcome.failed[0].error
    assert isinstance(error, SinchUnexpectedAnswer) and error.status_code == 302
    assert "redirects are not followed" in error.details
    assert not Contact.objects.filter(bot=sandbox_bot, opt_in_state=OptInState.OPTED_IN).exists()
    # The Location points back at the sandbox: a followed redirect would be a second logged request.
    assert len(fresh_sandbox.requests_log) == 1


def test_capability_answered_301_is_a_failure_not_an_empty_answer(sandbox_bot, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=301, path_contains="/capability")
    outcome = services.check_capability(sandbox_bot, ["46732001122"])
    assert outcome.capable == {} and outcome.done == [] and outcome.failed[0].error.status_code == 301
    assert not Contact.objects.filter(bot=sandbox_bot).exclude(capability=Capability.UNKNOWN).exists()
    assert len(fresh_sandbox.requests_log) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_send_answered_with_a_redirect_records_error_rows(sandbox_bot, fresh_sandbox, status):
    fresh_sandbox.faults.fail_next(1, status=status, path_contains="/messages")
    outcome = services.send_text(sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True)
    [row] = outcome.messages
    assert row.state == MessageState.ERROR and row.error_status_code == status
    assert len(fresh_sandbox.requests_log) == 1


def test_the_api_shows_a_redirect_as_an_error(api, sandbox_bot, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=302, location="https://elsewhere.example/steal")
    response = api.post(
        f"/api/sinch-whatsapp/bots/{sandbox_bot.pk}/opt-in/", {"numbers": ["46732001122"]}, format="json"
    )
    assert response.status_code == 502
    assert "elsewhere.example" in response.json()["error"]["details"]
    assert len(fresh_sandbox.requests_log) == 1


def test_every_client_call_treats_a_redirect_as_an_error(sandbox_bot, fresh_sandbox):
    client = client_for_bot(sandbox_bot)
    calls = [
        lambda: client.list_media_providers(),
        lambda: client.blacklist_page(0),
        lambda: client.mark_as_read("some-id"),
        lambda: client.stored_status_callbacks("some-id"),
        lambda: client.list_stickerpacks(),
    ]
    for call in calls:
        fresh_sandbox.faults.fail_next(1, status=302)
        with pytest.raises(SinchUnexpectedAnswer):
            call()
    assert len(fresh_sandbox.requests_log) == len(calls)
