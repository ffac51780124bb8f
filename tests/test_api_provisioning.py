"""Media providers, stickerpacks and the blacklist through the API, on the sandbox over real HTTP."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from django_sinch_whatsapp.models import MediaProvider, Stickerpack

pytestmark = pytest.mark.django_db

API = "/api/sinch-whatsapp/"


@pytest.fixture
def api(api_user):
    client = APIClient()
    client.force_authenticate(api_user)
    return client


def test_media_providers_are_created_listed_and_deleted_at_sinch(api, sandbox_bot, fresh_sandbox):
    body = {"bot": sandbox_bot.pk, "name": "cdn", "username": "media", "password": "s3cret-pw"}
    created = api.post(API + "media-providers/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["kind"] == "basic" and "s3cret-pw" not in created.content.decode()
    assert any(e["path"].endswith("/provision/provider") for e in fresh_sandbox.requests_log)
    listed = api.get(API + "media-providers/", {"bot": sandbox_bot.pk}).json()["results"]
    assert [p["name"] for p in listed] == ["cdn"]
    bearer = api.post(API + "media-providers/", {"bot": sandbox_bot.pk, "name": "api", "bearer": "b-t"}, format="json")
    assert bearer.status_code == 201 and bearer.json()["kind"] == "bearer"
    deleted = api.delete(f"{API}media-providers/{created.json()['id']}/")
    assert deleted.status_code == 204
    assert list(MediaProvider.objects.values_list("name", flat=True)) == ["api"]


def test_a_media_provider_needs_credentials_and_a_bot_of_yours(api, sandbox_bot, make_bot, other_organization):
    theirs = make_bot(tenant=other_organization, sinch_bot_id="theirs")
    missing = api.post(API + "media-providers/", {"bot": sandbox_bot.pk, "name": "cdn"}, format="json")
    assert missing.status_code == 400 and "password" in missing.json()["error"]["fields"]
    body = {"bot": theirs.pk, "name": "cdn", "bearer": "x"}
    foreign = api.post(API + "media-providers/", body, format="json")
    assert foreign.status_code == 400 and "bot" in foreign.json()["error"]["fields"]
    bad_name = api.post(API + "media-providers/", {"bot": sandbox_bot.pk, "name": "no spaces", "bearer": "x"})
    assert bad_name.status_code == 400 and bad_name.json()["error"]["code"] == "invalid_message"
    assert not MediaProvider.objects.exists()


def test_stickerpacks_are_created_listed_with_stickers_and_deleted(api, sandbox_bot, fresh_sandbox):
    body = {"bot": sandbox_bot.pk, "name": "Cats", "publisher": "Acme"}
    created = api.post(API + "stickerpacks/", body, format="json")
    assert created.status_code == 201, created.content
    pack = created.json()
    assert pack["sinch_id"] and pack["namespace"] == "third_party" and pack["stickers"] == []
    assert [p["name"] for p in api.get(API + "stickerpacks/").json()["results"]] == ["Cats"]
    assert api.delete(f"{API}stickerpacks/{pack['id']}/").status_code == 204
    assert not Stickerpack.objects.exists()


def test_the_blacklist_is_read_added_to_and_removed_from(api, sandbox_bot, fresh_sandbox):
    url = f"{API}bots/{sandbox_bot.pk}/blacklist/"
    added = api.post(url, {"numbers": ["46732001122", "+46 73 200 11 33"]}, format="json")
    assert added.status_code == 200 and added.json()["done"] == ["+46732001122", "+46732001133"]
    assert sorted(api.get(url).json()["numbers"]) == ["+46732001122", "+46732001133"]
    removed = api.delete(url, {"numbers": ["46732001122"]}, format="json")
    assert removed.status_code == 200
    assert api.get(url).json()["numbers"] == ["+46732001133"]


def test_another_tenants_provisioning_is_404(api, make_bot, other_organization):
    theirs = make_bot(tenant=other_organization, sinch_bot_id="theirs")
    provider = MediaProvider.objects.create(bot=theirs, name="theirs", kind="bearer")
    pack = Stickerpack.objects.create(bot=theirs, sinch_id="p-1", name="Theirs", publisher="Globex")
    assert api.get(f"{API}media-providers/{provider.pk}/").status_code == 404
    assert api.delete(f"{API}stickerpacks/{pack.pk}/").status_code == 404
    assert api.get(f"{API}bots/{theirs.pk}/blacklist/").status_code == 404
    assert api.get(API + "media-providers/").json()["results"] == []
