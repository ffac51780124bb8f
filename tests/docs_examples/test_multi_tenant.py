"""docs/tutorials/multi-tenant.rst: a bot per tenant, each with its own webhook; staff see their tenants' only."""

from __future__ import annotations

import pytest

from tests.conftest import CALLBACK_KEY, TOKEN


@pytest.mark.django_db
def test_each_tenant_has_its_own_bots_and_webhooks(organization, other_organization, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PUBLIC_BASE_URL": "https://api.example.com"}
    acme, globex = organization, other_organization
    # [start-bots]
    from django_sinch_whatsapp.models import Bot

    # Each organization brings its own Sinch bot (or Conversation app): its own token and signing key.
    acme_bot = Bot.objects.create(
        tenant=acme, name="Acme support", sinch_bot_id="acme-bot", bearer_token=TOKEN, callback_key=CALLBACK_KEY
    )
    globex_bot = Bot.objects.create(
        tenant=globex, name="Globex sales", sinch_bot_id="globex-bot", bearer_token=TOKEN, callback_key=CALLBACK_KEY
    )
    # Each bot has its own webhook, under an unguessable id: give each one to that bot's Sinch account.
    print(acme_bot.callback_url)  # https://api.example.com/sinch-whatsapp/callbacks/<acme's webhook id>/
    print(acme_bot.callback_url != globex_bot.callback_url)  # True

    # Querysets of one tenant's objects: every model reaches its tenant through its bot.
    print([bot.name for bot in Bot.objects.for_tenant(acme)])  # ['Acme support']
    # [end-bots]
    assert acme_bot.callback_url == f"https://api.example.com/sinch-whatsapp/callbacks/{acme_bot.webhook_id}/"
    assert acme_bot.webhook_id != globex_bot.webhook_id
    assert list(Bot.objects.for_tenant(acme)) == [acme_bot]


@pytest.mark.django_db
def test_staff_see_and_change_their_tenants_bots_only(organization, other_organization, make_bot, django_user_model):
    acme_bot = make_bot(tenant=organization, name="Acme support", sinch_bot_id="acme-bot")
    globex_bot = make_bot(tenant=other_organization, name="Globex sales", sinch_bot_id="globex-bot")
    User = django_user_model
    # [start-staff]
    from django.contrib.auth.models import Permission
    from django.test import Client

    # Bea works for Acme: a staff user with the admin's permissions on the package's models ...
    bea = User.objects.create_user("bea", password="pw-bea", is_staff=True)
    bea.user_permissions.add(*Permission.objects.filter(content_type__app_label="sinch_whatsapp"))
    # ... and a member of Acme, so TENANT_RESOLVER gives her Acme and nothing else.
    organization.members.add(bea)

    admin = Client()
    admin.login(username="bea", password="pw-bea")
    bots = admin.get("/admin/sinch_whatsapp/bot/")
    print([bot.name for bot in bots.context["cl"].result_list])  # ['Acme support']

    # Another tenant's bot does not exist for her: 404, on every page and action.
    print(admin.get(f"/admin/sinch_whatsapp/bot/{globex_bot.pk}/change/").status_code)  # 404
    print(admin.get(f"/admin/sinch_whatsapp/bot/{acme_bot.pk}/change/").status_code)  # 200
    # [end-staff]
    assert [bot.name for bot in bots.context["cl"].result_list] == ["Acme support"]
    assert admin.get(f"/admin/sinch_whatsapp/bot/{globex_bot.pk}/change/").status_code == 404
    assert admin.get(f"/admin/sinch_whatsapp/bot/{acme_bot.pk}/change/").status_code == 200
    # A superuser sees every tenant's bots.
    root = User.objects.create_superuser("root", password="pw-root")
    admin.force_login(root)
    everyone = admin.get("/admin/sinch_whatsapp/bot/").context["cl"].result_list
    assert {bot.name for bot in everyone} == {"Acme support", "Globex sales"}
