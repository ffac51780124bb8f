"""Conversation bots through the API: created with their credentials, secrets never answered, legacy-only
features refused with a 4xx naming the transport."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from django_sinch_whatsapp import services
from django_sinch_whatsapp.models import Bot
from django_sinch_whatsapp.transports import FeatureNotSupported
from tests.conversation_helpers import APP, KEY_ID, KEY_SECRET, PROJECT, WEBHOOK_SECRET, conversation_bot_values

pytestmark = pytest.mark.django_db

BOTS = "/api/sinch-whatsapp/bots/"


@pytest.fixture
def api(api_user):
    client = APIClient()
    client.force_authenticate(api_user)
    return client


def _create_body(organization, **overrides):
    body = {
        "tenant": organization.pk,
        "name": "Conversation line",
        "transport": "conversation",
        "conversation_region": "eu",
        "project_id": PROJECT,
        "app_id": APP,
        "key_id": KEY_ID,
        "key_secret": KEY_SECRET,
        "callback_key": WEBHOOK_SECRET,
    }
    body.update(overrides)
    return body


def test_post_bots_creates_a_conversation_bot_and_answers_its_callback_url(api, organization, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PUBLIC_BASE_URL": "https://hooks.example.com"}
    response = api.post(BOTS, _create_body(organization), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    bot = Bot.objects.get(pk=data["id"])
    assert data["callback_url"] == "https://hooks.example.com" + bot.callback_path
    assert (bot.transport, bot.project_id, bot.app_id, bot.key_id) == ("conversation", PROJECT, APP, KEY_ID)
    assert bot.key_secret.reveal() == KEY_SECRET and bot.conversation_region == "eu"
    assert KEY_SECRET not in response.content.decode() and WEBHOOK_SECRET not in response.content.decode()
    shown = api.get(f"{BOTS}{bot.pk}/").content.decode() + api.get(BOTS).content.decode()
    assert KEY_SECRET not in shown and "key_secret" not in shown


@pytest.mark.parametrize("field", ["project_id", "app_id", "key_id", "key_secret", "conversation_region"])
def test_a_missing_conversation_credential_is_a_field_error(api, organization, field):
    body = _create_body(organization)
    del body[field]
    response = api.post(BOTS, body, format="json")
    assert response.status_code == 400
    assert field in json.dumps(response.json()), response.json()
    assert not Bot.objects.exists()


def test_a_whatsapp_bot_still_needs_its_bearer_token(api, organization):
    response = api.post(BOTS, {"tenant": organization.pk, "name": "x", "sinch_bot_id": "b1"}, format="json")
    assert response.status_code == 400 and "bearer_token" in response.json()["error"]["fields"]


def test_two_conversation_bots_of_one_tenant_have_no_bot_id_and_coexist(make_bot, sandbox):
    make_bot(**conversation_bot_values(sandbox))
    make_bot(**conversation_bot_values(sandbox, app_id="another-app"))
    assert Bot.objects.filter(sinch_bot_id="").count() == 2


def test_moving_the_base_url_needs_the_key_secret_again(api, make_bot, sandbox):
    bot = make_bot(**conversation_bot_values(sandbox))
    response = api.patch(f"{BOTS}{bot.pk}/", {"base_url_override": ""}, format="json")
    assert response.status_code == 400 and "key_secret" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "call",
    [
        lambda bot: services.blacklist_add(bot, ["46732001122"]),
        lambda bot: services.list_blacklist(bot),
        lambda bot: services.sync_stickerpacks(bot),
        lambda bot: services.sync_media_providers(bot),
    ],
)
def test_legacy_only_services_refuse_a_conversation_bot_naming_the_transport(make_bot, sandbox, call):
    bot = make_bot(**conversation_bot_values(sandbox))
    with pytest.raises(FeatureNotSupported, match="'conversation' transport"):
        call(bot)


def test_a_call_the_transport_cannot_make_answers_a_clear_4xx_in_the_api(api, make_bot, sandbox):
    # The blacklist is the standalone API's: on Conversation the call is refused, named, not a 500.
    bot = make_bot(**conversation_bot_values(sandbox))
    response = api.post(f"{BOTS}{bot.pk}/blacklist/", {"numbers": ["46732001122"]}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "feature_not_supported"
    assert error["transport"] == "conversation" and "conversation" in error["message"]
