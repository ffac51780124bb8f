"""Token authentication, the API root, the offline docs and the paged bot list."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import hashers
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ROOT = "/api/sinch-whatsapp/"


def test_a_token_authenticates_without_hashing_a_password(api_user, bot, make_bot, other_organization, monkeypatch):
    make_bot(tenant=other_organization, sinch_bot_id="theirs")
    token = Token.objects.create(user=api_user)

    def no_hashing(*args, **kwargs):
        raise AssertionError("a token call hashed a password")

    monkeypatch.setattr(hashers, "check_password", no_hashing)
    api = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.get(ROOT + "bots/")
    assert response.status_code == 200
    assert [b["sinch_bot_id"] for b in response.json()["results"]] == ["support-bot"]  # tenant-scoped
    wrong = APIClient(HTTP_AUTHORIZATION="Token not-a-key").get(ROOT + "bots/")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "authentication_failed"


def test_token_authentication_is_left_out_without_its_app(settings, api_user):
    from django_sinch_whatsapp.api.views import api_authenticators

    assert "TokenAuthentication" in {type(a).__name__ for a in api_authenticators()}
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "rest_framework.authtoken"]
    assert "TokenAuthentication" not in {type(a).__name__ for a in api_authenticators()}


def test_the_schema_offers_token_authentication():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_the_root_lists_every_endpoint_and_the_docs(api_user):
    api = APIClient()
    api.force_authenticate(api_user)
    response = api.get(ROOT, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    links = response.json()
    assert set(links) == {
        "bots",
        "campaigns",
        "messages",
        "contacts",
        "inbound",
        "media-providers",
        "stickerpacks",
        "schema",
        "docs",
        "redoc",
    }
    for name, url in links.items():
        assert api.get(url).status_code == 200, name


@pytest.mark.parametrize("page", ["docs/", "redoc/"])
def test_the_docs_pages_load_only_local_static_files(client, page, settings):
    response = client.get(ROOT + page)
    assert response.status_code == 200
    html = response.content.decode()
    references = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert references, html
    assert all(ref.startswith(settings.STATIC_URL + "drf_spectacular_sidecar/") for ref in references), references
    assert "https://" not in html and "http://" not in html
    # Each referenced file is in the installed static files (so the page works offline).
    from django.contrib.staticfiles import finders

    for ref in references:
        assert finders.find(ref.removeprefix(settings.STATIC_URL)), ref


def test_the_schema_is_served(client):
    response = client.get(ROOT + "schema/", {"format": "json"})
    assert response.status_code == 200 and ROOT + "bots/" in response.json()["paths"]


def test_the_bot_list_is_paged_like_the_others(api_user, make_bot):
    for n in range(3):
        make_bot(sinch_bot_id=f"bot-{n}")
    api = APIClient()
    api.force_authenticate(api_user)
    first = api.get(ROOT + "bots/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    assert [b["sinch_bot_id"] for b in first["results"] + second["results"]] == ["bot-0", "bot-1", "bot-2"]
    assert second["next"] is None
