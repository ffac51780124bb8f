"""One tenant never reaches another: every admin URL, action, filter, dropdown and autocomplete, every API route.

The probes (tests/tenant_probe.py) read the admin site's registry and the DRF
router, so a new model admin or route is probed without a new line here; the
last tests prove the probe flags an unscoped admin and an unscoped route.
"""

from __future__ import annotations

import types

import pytest
from django.contrib import admin
from django.contrib.admin import AdminSite
from django.contrib.auth.models import Permission
from django.test import Client, override_settings
from django.urls import include, path
from rest_framework import viewsets
from rest_framework.routers import DefaultRouter
from rest_framework.test import APIClient

from django_sinch_whatsapp.admin import BotAdmin, ContactAdmin
from django_sinch_whatsapp.admin.scoping import TenantScopedAdminMixin
from django_sinch_whatsapp.api.serializers import ContactSerializer
from django_sinch_whatsapp.api.urls import router as api_router
from django_sinch_whatsapp.api.views import TenantScopedMixin
from django_sinch_whatsapp.models import Bot, Contact, OutboundMessage

from .conftest import CALLBACK_KEY, TOKEN
from .tenant_probe import APP_LABEL, admin_findings, api_findings, build_foreign_objects, snapshot


@pytest.fixture
def staff_user(django_user_model, organization):
    """A staff user of tenant A (``organization``) with every permission of the app."""
    user = django_user_model.objects.create_user("alice-staff", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label=APP_LABEL))
    organization.members.add(user)
    return user


@pytest.fixture
def staff_client(staff_user):
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def foreign_bot(make_bot, other_organization, fresh_sandbox):
    """Tenant B's bot, live on the sandbox: an action that reached it would succeed and be seen."""
    bot = make_bot(
        tenant=other_organization,
        name="Globex line",
        sinch_bot_id="globex-bot",
        base_url_override=fresh_sandbox.region_url("us"),
    )
    fresh_sandbox.register_bot("globex-bot", TOKEN, region="us", callback_key=CALLBACK_KEY)
    return bot


@pytest.fixture
def foreign(foreign_bot):
    return build_foreign_objects(foreign_bot)


@pytest.fixture
def own(make_bot, fresh_sandbox):
    """Tenant A's objects too: the pages must work for them (so an empty page is not what passes)."""
    bot = make_bot(base_url_override=fresh_sandbox.region_url("us"))
    fresh_sandbox.register_bot("support-bot", TOKEN, region="us", callback_key=CALLBACK_KEY)
    return build_foreign_objects(bot)


@pytest.fixture
def unchanged(foreign_bot, fresh_sandbox):
    """A check that tenant B's rows are as they were and the sandbox heard nothing for B's bot."""
    before = snapshot(foreign_bot.tenant_id)

    def check() -> list[str]:
        changes = []
        if snapshot(foreign_bot.tenant_id) != before:
            changes.append("tenant B's rows changed")
        calls = [e["path"] for e in fresh_sandbox.requests_log if "/globex-bot/" in e["path"]]
        if calls:
            changes.append(f"Sinch was called for tenant B's bot: {calls}")
        return changes

    return check


def test_every_model_of_the_app_has_a_probe_object(foreign):
    from django.apps import apps

    assert set(apps.get_app_config(APP_LABEL).get_models()) <= set(foreign)


def test_every_admin_of_the_app_is_tenant_scoped():
    ours = [a for m, a in admin.site._registry.items() if m._meta.app_label == APP_LABEL]
    assert len(ours) >= 5
    assert all(isinstance(model_admin, TenantScopedAdminMixin) for model_admin in ours)


def test_a_staff_user_of_tenant_a_reaches_nothing_of_tenant_b(staff_client, staff_user, foreign, own, unchanged):
    findings = admin_findings(staff_client, staff_user, admin.site, foreign, unchanged=unchanged)
    assert findings == []
    # And the same pages do show tenant A's own objects: the probe looked at real lists.
    for model in (Bot, Contact, OutboundMessage):
        url = f"/admin/{APP_LABEL}/{model._meta.model_name}/"
        shown = set(staff_client.get(url).context["cl"].queryset.values_list("pk", flat=True))
        assert {obj.pk for obj in own[model]} <= shown
    assert staff_client.get(f"/admin/{APP_LABEL}/bot/{own[Bot][0].pk}/change/").status_code == 200


def test_the_probe_sees_a_superuser_reach_tenant_b(admin_client, admin_user, foreign, unchanged):
    """Superusers see all; the probe reports it, which shows it would report a leak."""
    admin_user.organizations.clear()
    findings = admin_findings(admin_client, admin_user, admin.site, foreign, unchanged=lambda: [])
    assert any("lists the other tenant's" in f for f in findings)
    assert any("answered 200, not 404" in f for f in findings)


def test_an_api_user_of_tenant_a_reaches_nothing_of_tenant_b(api_user, foreign, own, unchanged):
    api = APIClient()
    api.force_authenticate(api_user)
    assert api_findings(api, api_router, "sinch_whatsapp_api", foreign, unchanged=unchanged) == []
    listed = api.get("/api/sinch-whatsapp/bots/").json()["results"]
    assert [item["id"] for item in listed] == [own[Bot][0].pk]


def test_tenant_b_bot_cannot_be_moved_into_tenant_a(staff_client, foreign_bot, organization):
    url = f"/admin/{APP_LABEL}/bot/{foreign_bot.pk}/change/"
    data = {"tenant": organization.pk, "name": "mine now", "sinch_bot_id": "globex-bot", "region": "us"}
    assert staff_client.post(url, {**data, "is_active": "on"}).status_code == 404
    foreign_bot.refresh_from_db()
    assert foreign_bot.tenant_id != organization.pk and foreign_bot.name == "Globex line"


def test_the_bot_tenant_dropdown_offers_only_own_tenants(staff_client, other_organization, organization):
    form = staff_client.get(f"/admin/{APP_LABEL}/bot/add/").context["adminform"].form
    assert list(form.fields["tenant"].queryset) == [organization]
    data = {"tenant": other_organization.pk, "name": "x", "sinch_bot_id": "x", "region": "us", "bearer_token": "t"}
    response = staff_client.post(f"/admin/{APP_LABEL}/bot/add/", {**data, "is_active": "on"})
    assert response.status_code == 200 and "tenant" in response.context["adminform"].form.errors
    assert not Bot.objects.filter(sinch_bot_id="x").exists()


def test_moving_a_bot_to_another_tenant_needs_its_secrets_again(admin_client, bot, other_organization):
    url = f"/admin/{APP_LABEL}/bot/{bot.pk}/change/"
    data = {"tenant": other_organization.pk, "name": bot.name, "sinch_bot_id": bot.sinch_bot_id, "region": "us"}
    response = admin_client.post(url, {**data, "is_active": "on"})
    errors = response.context["adminform"].form.errors
    assert "bearer_token" in errors and "callback_key" in errors
    bot.refresh_from_db()
    assert bot.tenant_id != other_organization.pk
    response = admin_client.post(url, {**data, "is_active": "on", "bearer_token": "new", "callback_key": "new-key"})
    assert response.status_code == 302
    bot.refresh_from_db()
    assert bot.tenant_id == other_organization.pk and bot.bearer_token.reveal() == "new"


def test_the_api_move_needs_the_secrets_again(api_user, bot, other_organization):
    other_organization.members.add(api_user)  # both tenants are the user's: only the secrets are missing
    api = APIClient()
    api.force_authenticate(api_user)
    url = f"/api/sinch-whatsapp/bots/{bot.pk}/"
    response = api.patch(url, {"tenant": other_organization.pk}, format="json")
    assert response.status_code == 400 and {"bearer_token", "callback_key"} <= set(response.json()["error"]["fields"])
    response = api.patch(
        url, {"tenant": other_organization.pk, "bearer_token": "t2", "callback_key": "k2"}, format="json"
    )
    assert response.status_code == 200
    bot.refresh_from_db()
    assert bot.tenant_id == other_organization.pk


# -- inactive bots: the admin's actions refuse them as the API does --------------------------------------


def test_admin_actions_refuse_inactive_bots_like_the_api(staff_client, api_user, make_bot, fresh_sandbox):
    bot = make_bot(is_active=False, base_url_override=fresh_sandbox.region_url("us"))
    fresh_sandbox.register_bot("support-bot", TOKEN, region="us")
    contact = Contact.objects.create(bot=bot, number="+46732001122")
    api = APIClient()
    api.force_authenticate(api_user)
    api_answer = api.post(f"/api/sinch-whatsapp/bots/{bot.pk}/opt-in/", {"numbers": ["46732001122"]}, format="json")
    assert api_answer.status_code == 400
    api_text = "bot: is inactive; activate it to call Sinch"
    assert api_text in api_answer.content.decode()
    for url, action, pk in (
        (f"/admin/{APP_LABEL}/contact/", "opt_in", contact.pk),
        (f"/admin/{APP_LABEL}/contact/", "check_capability", contact.pk),
        (f"/admin/{APP_LABEL}/bot/", "verify_credentials", bot.pk),
    ):
        response = staff_client.post(url, {"action": action, "_selected_action": [pk], "index": 0}, follow=True)
        shown = [str(m) for m in response.context["messages"]]
        assert any("is inactive; activate it to" in m for m in shown), (action, shown)
    assert fresh_sandbox.requests_log == []


# -- the probe flags what is not scoped ------------------------------------------------------------------


class UnscopedContactAdmin(admin.ModelAdmin):
    """What a new admin written without the mixin looks like."""

    list_filter = ["bot"]
    search_fields = ["number"]


class UnscopedContactViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    """A new route whose queryset forgot the tenant filter."""

    serializer_class = ContactSerializer
    queryset = Contact.objects.all()


def _urlconf(site: AdminSite, router: DefaultRouter) -> types.ModuleType:
    module = types.ModuleType("probe_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("probe-admin/", site.urls),
        path("probe-api/", include((router.urls, "probe_api"))),
    ]
    return module


@pytest.mark.parametrize("scoped", [False, True], ids=["unscoped", "scoped"])
def test_the_probe_flags_an_unscoped_admin_and_route(scoped, staff_user, foreign, unchanged, api_user):
    site = AdminSite(name="probe")
    site.register(Bot, BotAdmin)
    site.register(Contact, ContactAdmin if scoped else UnscopedContactAdmin)
    router = DefaultRouter()
    router.register("contacts", api_router.registry[2][1] if scoped else UnscopedContactViewSet, basename="contact")
    assert router.registry[0][1].serializer_class is ContactSerializer
    with override_settings(ROOT_URLCONF=_urlconf(site, router)):
        api = APIClient()
        api.force_authenticate(api_user)
        api_found = api_findings(api, router, "probe_api", foreign, unchanged=unchanged)
        client = Client()
        client.force_login(staff_user)
        findings = admin_findings(client, staff_user, site, foreign, unchanged=unchanged)
    if scoped:
        assert findings == [] and api_found == []
    else:
        assert any("lists the other tenant's" in f for f in findings), findings
        assert any("contact/" in f and "not 404" in f for f in findings), findings
        assert any("tenant B's rows changed" in f for f in findings), findings  # its delete view deleted B's contact
        assert any("GET /probe-api/contacts/" in f for f in api_found), api_found
        assert any("(retrieve): answered 200" in f for f in api_found), api_found
