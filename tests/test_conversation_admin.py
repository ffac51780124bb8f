"""The admin's bot form per transport, and admin actions on a Conversation bot (never a 500)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from django_sinch_whatsapp.models import Bot, Contact
from tests.conversation_helpers import APP, KEY_ID, KEY_SECRET, PROJECT, conversation_bot_values

pytestmark = pytest.mark.django_db


def _add_data(organization, sandbox, **overrides):
    data = {
        "tenant": organization.pk,
        "name": "Conversation support",
        "transport": "conversation",
        "region": "us",
        "project_id": PROJECT,
        "app_id": APP,
        "key_id": KEY_ID,
        "key_secret": KEY_SECRET,
        "conversation_region": "us",
        "base_url_override": sandbox.conversation.url("us"),
        "callback_key": "",
        "previous_callback_key": "",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def _change_data(bot, **overrides):
    data = {
        "tenant": bot.tenant_id,
        "name": bot.name,
        "transport": bot.transport,
        "region": bot.region,
        "project_id": bot.project_id,
        "app_id": bot.app_id,
        "key_id": bot.key_id,
        "key_secret": "",
        "conversation_region": bot.conversation_region,
        "base_url_override": bot.base_url_override,
        "callback_key": "",
        "previous_callback_key": "",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_a_conversation_bot_is_added_with_its_own_credentials_only(admin_client, organization, sandbox):
    response = admin_client.post(reverse("admin:sinch_whatsapp_bot_add"), _add_data(organization, sandbox))
    assert response.status_code == 302, response.content.decode()[:3000]
    bot = Bot.objects.get()
    assert bot.transport == "conversation" and not bot.sinch_bot_id and not bot.bearer_token
    assert bot.key_secret.reveal() == KEY_SECRET


@pytest.mark.parametrize("missing", ["project_id", "app_id", "key_id", "key_secret", "conversation_region"])
def test_a_missing_conversation_credential_is_named_on_its_field(admin_client, organization, sandbox, missing):
    response = admin_client.post(
        reverse("admin:sinch_whatsapp_bot_add"), _add_data(organization, sandbox, **{missing: ""})
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert missing in errors and "'conversation' transport" in errors[missing][0]
    assert not Bot.objects.exists()
    assert KEY_SECRET not in response.content.decode()


def test_a_legacy_bot_still_needs_its_bot_id_and_token(admin_client, organization, sandbox):
    data = _add_data(organization, sandbox, transport="whatsapp")
    response = admin_client.post(reverse("admin:sinch_whatsapp_bot_add"), data)
    errors = response.context["adminform"].form.errors
    assert {"sinch_bot_id", "bearer_token"} <= set(errors)


def test_the_change_page_shows_both_fieldsets_saying_which_transport_uses_them(admin_client, make_bot, sandbox):
    bot = make_bot(**conversation_bot_values(sandbox))
    page = admin_client.get(reverse("admin:sinch_whatsapp_bot_change", args=[bot.pk])).content.decode()
    assert "Conversation API" in page and "Standalone WhatsApp API" in page
    assert "Used by bots on the 'conversation' transport" in page
    # The bot's own transport comes first; the other one is folded away.
    assert page.index("Conversation API") < page.index("Standalone WhatsApp API")
    assert KEY_SECRET not in page and 'name="key_secret"' in page


@pytest.mark.parametrize(
    "change",
    [{"conversation_region": "eu"}, {"base_url_override": "http://127.0.0.1:9/conversation/us"}],
)
def test_moving_the_host_needs_the_key_secret_again(admin_client, make_bot, sandbox, change):
    bot = make_bot(**conversation_bot_values(sandbox))
    url = reverse("admin:sinch_whatsapp_bot_change", args=[bot.pk])
    response = admin_client.post(url, _change_data(bot, **change))
    assert response.status_code == 200
    assert "Type the access key secret again" in response.context["adminform"].form.errors["key_secret"][0]
    response = admin_client.post(url, _change_data(bot, key_secret=KEY_SECRET, **change))
    assert response.status_code == 302


def test_moving_to_another_tenant_needs_the_key_secret_again(admin_client, make_bot, sandbox, other_organization):
    bot = make_bot(**conversation_bot_values(sandbox))
    url = reverse("admin:sinch_whatsapp_bot_change", args=[bot.pk])
    response = admin_client.post(url, _change_data(bot, tenant=other_organization.pk))
    assert "another tenant" in response.context["adminform"].form.errors["key_secret"][0]


def test_an_edit_leaving_the_secret_empty_keeps_it(admin_client, make_bot, sandbox):
    bot = make_bot(**conversation_bot_values(sandbox))
    response = admin_client.post(
        reverse("admin:sinch_whatsapp_bot_change", args=[bot.pk]), _change_data(bot, name="Renamed")
    )
    assert response.status_code == 302
    bot.refresh_from_db()
    assert bot.name == "Renamed" and bot.key_secret.reveal() == KEY_SECRET


def _action(admin_client, model, action, pks):
    url = reverse(f"admin:sinch_whatsapp_{model}_changelist")
    response = admin_client.post(url, {"action": action, "_selected_action": pks}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_verify_credentials_on_a_conversation_bot_asks_for_a_token(admin_client, conversation_bot, make_bot, sandbox):
    wrong = make_bot(**conversation_bot_values(sandbox, name="Wrong key", key_secret="not-the-secret", app_id="APP2"))
    texts = _action(admin_client, "bot", "verify_credentials", [conversation_bot.pk, wrong.pk])
    assert any("credentials accepted" in t and conversation_bot.name in t for t in texts), texts
    assert any("Wrong key" in t and "credentials accepted" not in t for t in texts), texts
    assert not any("not-the-secret" in t for t in texts)


def test_checking_a_conversation_contacts_capability_asks_and_shows_the_lookup_pending(
    admin_client, conversation_bot, fresh_sandbox
):
    contact = Contact.objects.create(bot=conversation_bot, number="+46732001122", capability="capable")
    texts = _action(admin_client, "contact", "check_capability", [contact.pk])
    assert any("asked Sinch about 1 number(s)" in t and "by callback" in t for t in texts), texts
    contact.refresh_from_db()
    assert contact.capability == "pending" and contact.capability_requested_at is not None
    page = admin_client.get(reverse("admin:sinch_whatsapp_contact_change", args=[contact.pk])).content.decode()
    assert "lookup pending" in page and "WhatsApp lookup asked at" in page
    listing = admin_client.get(reverse("admin:sinch_whatsapp_contact_changelist")).content.decode()
    assert "lookup pending" in listing
