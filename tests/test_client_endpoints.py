"""The client's provisioning, callback-store, stickerpack and group endpoints against the sandbox over real HTTP.

Each endpoint is checked for what goes on the wire (method, path, query, body)
and for the typed answer; limits are checked to fail before anything is sent.
"""

from __future__ import annotations

import time
from dataclasses import is_dataclass

import pytest

from django_sinch_whatsapp.client import messages
from django_sinch_whatsapp.client.results import (
    BlacklistPage,
    GroupInfo,
    MediaProviderInfo,
    StickerInfo,
    StickerpackInfo,
    StoredCallbacksPage,
)
from django_sinch_whatsapp.clients import client_for_bot
from django_sinch_whatsapp.exceptions import MessageValidationError, SinchBadRequest, SinchUnavailable

SECRET_PASSWORD = "AbCdEf123456&44jf-password"
SECRET_BEARER = "AbCdEf123456&44jf-bearer"


@pytest.fixture
def client(sandbox_bot):
    return client_for_bot(sandbox_bot)


def numbers(n, start=46732000000):
    return [str(start + i) for i in range(n)]


def last_request(sandbox, method=None):
    log = [entry for entry in sandbox.requests_log if method is None or entry["method"] == method]
    return log[-1]


# -- media providers ---------------------------------------------------------------------------------


def test_add_basic_and_bearer_providers_then_list_the_nested_answer(client, fresh_sandbox):
    client.add_basic_media_provider("basic_media_provider_name", "user", SECRET_PASSWORD)
    sent = last_request(fresh_sandbox, "POST")
    assert sent["path"].endswith("/whatsapp/v1/support-bot/provision/provider")
    assert sent["body"] == {
        "name": "basic_media_provider_name",
        "type": "www",
        "config": {"basic": {"username": "user", "password": SECRET_PASSWORD}},
    }
    client.add_bearer_media_provider("bearer-media-provider", SECRET_BEARER)
    assert last_request(fresh_sandbox, "POST")["body"]["config"] == {"bearer": SECRET_BEARER}

    providers = client.list_media_providers()
    assert all(isinstance(p, MediaProviderInfo) for p in providers)
    by_name = {p.name: p for p in providers}
    assert set(by_name) == {"basic_media_provider_name", "bearer-media-provider"}
    basic, bearer = by_name["basic_media_provider_name"], by_name["bearer-media-provider"]
    assert (basic.kind, basic.type, basic.username, basic.password) == ("basic", "www", "user", SECRET_PASSWORD)
    assert (bearer.kind, bearer.bearer) == ("bearer", SECRET_BEARER)
    # The secrets Sinch echoes are kept for callers, never shown.
    for provider in providers:
        assert SECRET_PASSWORD not in repr(provider) and SECRET_BEARER not in repr(provider)
        assert SECRET_PASSWORD not in str(provider) and SECRET_BEARER not in str(provider)


def test_reusing_a_provider_name_overwrites_it(client):
    client.add_bearer_media_provider("media", "first-token")
    client.add_basic_media_provider("media", "user", "pw")
    [provider] = client.list_media_providers()
    assert (provider.name, provider.kind, provider.username) == ("media", "basic", "user")


def test_delete_provider(client, fresh_sandbox):
    client.add_bearer_media_provider("doomed", "token")
    client.add_bearer_media_provider("kept", "token")
    client.delete_media_provider("doomed")
    assert fresh_sandbox.count("DELETE", "/provision/provider/doomed") == 1
    assert [p.name for p in client.list_media_providers()] == ["kept"]


def test_provider_list_without_providers_is_empty(client):
    assert client.list_media_providers() == []


def test_provider_name_of_200_characters_is_accepted_and_201_rejected_before_sending(client, fresh_sandbox):
    client.add_bearer_media_provider("a" * 200, "token")
    assert fresh_sandbox.count("POST", "/provision/provider") == 1
    with pytest.raises(MessageValidationError) as caught:
        client.add_bearer_media_provider("a" * 201, "token")
    assert caught.value.field == "name"
    assert caught.value.limit == 200 and caught.value.actual == 201
    assert "200" in str(caught.value)
    assert fresh_sandbox.count("POST", "/provision/provider") == 1


# whatsapp-media-provider.md allows "A-Z, a-z, -, and _" only; the release note's "alphanumeric" is older
# and looser, and the page wins, so digits are refused too.
@pytest.mark.parametrize("name", ["bad name", "bad.name", "bad!", "provider1", "ünicode", ""])
def test_provider_name_with_a_character_outside_the_rule_is_rejected_with_nothing_sent(client, fresh_sandbox, name):
    with pytest.raises(MessageValidationError) as caught:
        client.add_basic_media_provider(name, "user", "pw")
    assert caught.value.field == "name"
    assert fresh_sandbox.count("POST", "/provision/provider") == 0
    assert fresh_sandbox.requests_log == []


def test_provider_config_needs_its_fields(client, fresh_sandbox):
    with pytest.raises(MessageValidationError, match="password"):
        client.add_basic_media_provider("media", "user", "")
    with pytest.raises(MessageValidationError, match="bearer"):
        client.add_bearer_media_provider("media", "")
    assert fresh_sandbox.requests_log == []


def test_a_provider_named_before_the_2020_rules_can_still_be_deleted(client, fresh_sandbox):
    client.delete_media_provider("legacy provider.2019")
    assert last_request(fresh_sandbox)["path"].endswith("/provision/provider/legacy%20provider.2019")
    assert last_request(fresh_sandbox)["status"] == 200


# -- blacklist ---------------------------------------------------------------------------------------------


def test_blacklist_add_remove_and_one_page(client, fresh_sandbox):
    client.blacklist_add(["46732001122", "46732002244"])
    assert last_request(fresh_sandbox)["body"] == {"numbers": ["46732001122", "46732002244"]}
    page = client.blacklist_page()
    assert isinstance(page, BlacklistPage)
    assert (page.page, page.numbers, page.is_last) == (0, ["+46732001122", "+46732002244"], True)
    assert last_request(fresh_sandbox)["query"] == "page=0"
    client.blacklist_remove(["46732001122"])
    assert last_request(fresh_sandbox)["method"] == "DELETE"
    assert list(client.iter_blacklist()) == ["+46732002244"]


@pytest.mark.parametrize("count", [0, 21])
def test_blacklist_takes_1_to_20_numbers(client, fresh_sandbox, count):
    for call in (client.blacklist_add, client.blacklist_remove):
        with pytest.raises(MessageValidationError) as caught:
            call(numbers(count))
        assert (caught.value.field, caught.value.limit, caught.value.actual) == ("numbers", 20, count)
    assert fresh_sandbox.requests_log == []


def test_blacklist_of_250_numbers_is_read_in_pages_from_0(client, fresh_sandbox):
    blacklisted = numbers(250)
    for start in range(0, 250, 20):
        client.blacklist_add(blacklisted[start : start + 20])
    assert fresh_sandbox.count("POST", "/provision/blacklist") == 13

    assert client.blacklist_page(0).numbers == ["+" + n for n in blacklisted[:100]]
    assert client.blacklist_page(2).numbers == ["+" + n for n in blacklisted[200:]]
    before = len(fresh_sandbox.requests_log)
    everything = list(client.iter_blacklist())
    assert everything == ["+" + n for n in blacklisted]
    pages = [entry["query"] for entry in fresh_sandbox.requests_log[before:]]
    assert pages == ["page=0", "page=1", "page=2"]


def test_exactly_100_blacklisted_numbers_end_on_an_empty_page(client, fresh_sandbox):
    for start in range(0, 100, 20):
        client.blacklist_add(numbers(100)[start : start + 20])
    before = len(fresh_sandbox.requests_log)
    assert len(list(client.iter_blacklist())) == 100
    assert [entry["query"] for entry in fresh_sandbox.requests_log[before:]] == ["page=0", "page=1"]


def test_negative_blacklist_page_is_refused_before_sending(client, fresh_sandbox):
    with pytest.raises(MessageValidationError, match="page"):
        client.blacklist_page(-1)
    assert fresh_sandbox.requests_log == []


# -- callback store ---------------------------------------------------------------------------------------


def test_stored_status_callbacks_of_a_message(client, fresh_sandbox):
    [status] = client.send_message(["46732001122"], messages.text("Hello"))
    assert fresh_sandbox.wait_for_callbacks(10)
    callbacks = client.stored_status_callbacks(status.message_id)
    assert last_request(fresh_sandbox)["method"] == "GET"
    assert last_request(fresh_sandbox)["path"].endswith(f"/callbacks/status/{status.message_id}")
    assert [cb["statuses"][0]["state"] for cb in callbacks] == ["queued", "dispatched", "sent", "delivered", "read"]
    assert {cb["type"] for cb in callbacks} == {"whatsapp"}
    assert client.stored_status_callbacks("01UNKNOWNMESSAGEID00000000") == []


def inject_and_store(sandbox, bot_id, senders):
    for index, sender in enumerate(senders):
        sandbox.inject_inbound(bot_id, sender, text=f"message {index}")
    assert sandbox.wait_for_callbacks(10)


def test_stored_inbound_notifications_page_from_1_with_a_json_body(client, fresh_sandbox):
    inject_and_store(fresh_sandbox, client.bot_id, ["46732001122"] * 3 + ["46732002244"] * 2)

    first = client.stored_inbound_notifications(page_size=2)
    sent = last_request(fresh_sandbox)
    assert (sent["method"], sent["query"]) == ("GET", "")
    assert sent["path"].endswith("/callbacks/notifications")
    assert sent["body"] == {"page": 1, "page_size": 2}
    assert isinstance(first, StoredCallbacksPage)
    assert (first.page, len(first.results), first.is_last) == (1, 2, False)
    texts = [cb["notifications"][0]["message"]["body"] for cb in first.results]
    assert texts == ["message 0", "message 1"]

    third = client.stored_inbound_notifications(page=3, page_size=2)
    assert [cb["notifications"][0]["message"]["body"] for cb in third.results] == ["message 4"]
    assert third.is_last

    everything = list(client.iter_stored_inbound_notifications(page_size=2))
    assert [cb["notifications"][0]["message"]["body"] for cb in everything] == [f"message {i}" for i in range(5)]

    from_second = client.stored_inbound_notifications(from_number="46732002244")
    assert last_request(fresh_sandbox)["body"]["from"] == "46732002244"
    assert [cb["notifications"][0]["from"] for cb in from_second.results] == ["46732002244"] * 2


def test_stored_inbound_notifications_time_window(client, fresh_sandbox):
    from datetime import UTC, datetime, timedelta

    inject_and_store(fresh_sandbox, client.bot_id, ["46732001122"])
    now = datetime.now(UTC)
    later = client.stored_inbound_notifications(start_time=now + timedelta(hours=1))
    assert later.results == []
    sent = last_request(fresh_sandbox)["body"]
    assert sent["start_time"].endswith("Z") and "T" in sent["start_time"]
    around = client.stored_inbound_notifications(
        start_time=now - timedelta(hours=1), end_time="2999-01-01T00:00:00.000Z"
    )
    assert len(around.results) == 1


@pytest.mark.parametrize("options", [{"page": 0}, {"page_size": 0}, {"page": -1}])
def test_callback_store_pages_start_at_1(client, fresh_sandbox, options):
    with pytest.raises(MessageValidationError):
        client.stored_inbound_notifications(**options)
    assert fresh_sandbox.requests_log == []


# -- stickerpacks -------------------------------------------------------------------------------------------


def test_stickerpack_lifecycle(client, fresh_sandbox):
    [first_party] = client.list_stickerpacks()  # Sinch's default namespace is "whatsapp"
    assert last_request(fresh_sandbox)["query"] == ""
    assert client.get_stickerpack(first_party).publisher == "WhatsApp"
    assert client.list_stickerpacks("third_party") == []
    assert last_request(fresh_sandbox)["query"] == "namespace=third_party"

    pack_id = client.create_stickerpack(publisher="My publisher name", name="My stickerpack")
    assert last_request(fresh_sandbox)["body"] == {"publisher": "My publisher name", "name": "My stickerpack"}
    assert client.list_stickerpacks("third_party") == [pack_id]

    info = client.get_stickerpack(pack_id, "third_party")
    assert isinstance(info, StickerpackInfo)
    assert (info.id, info.publisher, info.name, info.ios_app_store_link) == (
        pack_id,
        "My publisher name",
        "My stickerpack",
        "",
    )

    client.update_stickerpack(pack_id, name="My new stickerpack name")
    sent = last_request(fresh_sandbox)
    assert (sent["method"], sent["body"]) == ("PATCH", {"name": "My new stickerpack name"})
    info = client.get_stickerpack(pack_id, "third_party")
    assert (info.name, info.publisher) == ("My new stickerpack name", "My publisher name")

    client.delete_stickerpack(pack_id)
    assert fresh_sandbox.count("DELETE", f"/stickerpacks/{pack_id}") == 1
    assert client.list_stickerpacks("third_party") == []


def test_stickerpack_with_store_links(client):
    pack_id = client.create_stickerpack(
        publisher="P",
        name="N",
        ios_app_store_link="https://apps.apple.com/app/id1",
        android_app_store_link="https://play.google.com/store/apps/details?id=x",
    )
    info = client.get_stickerpack(pack_id, "third_party")
    assert info.ios_app_store_link == "https://apps.apple.com/app/id1"
    assert info.android_app_store_link.startswith("https://play.google.com/")


def test_stickers_in_a_pack(client, fresh_sandbox):
    pack_id = client.create_stickerpack(publisher="P", name="N")
    index = client.create_sticker(pack_id, "https://example.com/sticker.webp", ["🐥", "😃"])
    assert index == "0"
    assert last_request(fresh_sandbox)["body"] == {"url": "https://example.com/sticker.webp", "emojis": ["🐥", "😃"]}
    assert client.create_sticker(pack_id, "https://example.com/other.webp") == "1"
    assert client.list_stickers(pack_id, "third_party") == ["0", "1"]

    sticker = client.get_sticker(pack_id, "0", "third_party")
    assert isinstance(sticker, StickerInfo)
    assert sticker.index == "0" and sticker.id and sticker.emojis == ["🐥", "😃"]

    client.update_sticker(pack_id, "0", emojis=["😃"])
    assert (last_request(fresh_sandbox)["method"], last_request(fresh_sandbox)["body"]) == ("PATCH", {"emojis": ["😃"]})
    assert client.get_sticker(pack_id, "0", "third_party").emojis == ["😃"]
    client.update_sticker(pack_id, "0", url="https://example.com/updated_sticker.webp")

    client.delete_sticker(pack_id, "1")
    assert fresh_sandbox.count("DELETE", f"/stickerpacks/{pack_id}/stickers/1") == 1
    assert client.list_stickers(pack_id, "third_party") == ["0"]


def test_first_party_stickers_are_readable_in_the_default_namespace(client):
    [pack_id] = client.list_stickerpacks()
    indices = client.list_stickers(pack_id)
    assert indices == ["0", "1"]
    assert all(client.get_sticker(pack_id, index).id for index in indices)


def test_stickerpack_limits_fail_before_sending(client, fresh_sandbox):
    with pytest.raises(MessageValidationError) as caught:
        client.list_stickerpacks("mine")
    assert caught.value.field == "namespace"
    with pytest.raises(MessageValidationError) as caught:
        client.create_sticker("pack", "https://example.com/s.webp", ["🐥", "😃", "🎉", "🎈"])
    assert (caught.value.field, caught.value.limit, caught.value.actual) == ("emojis", 3, 4)
    with pytest.raises(MessageValidationError):
        client.update_stickerpack("pack")
    with pytest.raises(MessageValidationError):
        client.update_sticker("pack", "0")
    with pytest.raises(MessageValidationError):
        client.create_stickerpack(publisher="", name="N")
    with pytest.raises(MessageValidationError):
        client.get_stickerpack("")
    with pytest.raises(MessageValidationError):
        client.delete_stickerpack("..")
    assert fresh_sandbox.requests_log == []


def test_unknown_stickerpack_is_sinchs_400(client):
    with pytest.raises(SinchBadRequest) as caught:
        client.get_stickerpack("no-such-pack", "third_party")
    assert "stickerpack-id" in caught.value.details


# -- idempotency flags ---------------------------------------------------------------------------------------


def test_creating_a_stickerpack_is_not_repeated_after_a_500(client, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=500, path_contains="/stickerpacks")
    with pytest.raises(SinchUnavailable):
        client.create_stickerpack(publisher="P", name="N")
    assert fresh_sandbox.count("POST", "/stickerpacks") == 1


def test_updating_a_stickerpack_is_repeated_after_a_500(client, fresh_sandbox):
    pack_id = client.create_stickerpack(publisher="P", name="N")
    fresh_sandbox.faults.fail_next(1, status=500, path_contains="/stickerpacks")
    client.update_stickerpack(pack_id, name="Renamed")
    assert fresh_sandbox.count("PATCH", f"/stickerpacks/{pack_id}") == 2
    assert client.get_stickerpack(pack_id, "third_party").name == "Renamed"


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.add_bearer_media_provider("media", "token"),
        lambda c: c.list_media_providers(),
        lambda c: c.delete_media_provider("media"),
        lambda c: c.blacklist_add(["46732001122"]),
        lambda c: c.blacklist_remove(["46732001122"]),
        lambda c: c.stored_status_callbacks("01DPNXZ0WCF9XD19MH84XD0P62"),
        lambda c: c.stored_inbound_notifications(),
    ],
)
def test_provisioning_calls_are_repeated_after_a_502(client, fresh_sandbox, call):
    fresh_sandbox.faults.fail_next(1, status=502)
    call(client)
    assert len(fresh_sandbox.requests_log) == 2
    assert [entry["status"] for entry in fresh_sandbox.requests_log] == [502, 200]


def test_capability_503_then_200_is_retried_and_succeeds(client, fresh_sandbox):
    fresh_sandbox.set_capability(client.bot_id, "46732002244", False)
    fresh_sandbox.faults.fail_next(1, status=503, path_contains="capability")
    results = client.capability(["46732001122", "46732002244"])
    assert [(r.msisdn, r.capable) for r in results] == [("46732001122", True), ("46732002244", False)]
    assert fresh_sandbox.count("POST", "/capability") == 2
    assert [entry["status"] for entry in fresh_sandbox.requests_log] == [503, 200]


def test_429_with_retry_after_2_on_an_idempotent_call_waits_at_least_2_seconds(client, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=429, path_contains="/provision/blacklist", retry_after=2)
    started = time.monotonic()
    page = client.blacklist_page(0)
    elapsed = time.monotonic() - started
    assert page.numbers == []
    assert elapsed >= 2.0
    assert [entry["status"] for entry in fresh_sandbox.requests_log] == [429, 200]


# -- groups (deprecated) ---------------------------------------------------------------------------------------


def test_every_group_call_is_deprecated_and_works_on_the_legacy_api(client, fresh_sandbox):
    with pytest.deprecated_call(match="2021-06-08"):
        client.create_group("Sinch WhatsApp Team Group")
    assert last_request(fresh_sandbox)["body"] == {"subject": "Sinch WhatsApp Team Group"}
    with pytest.deprecated_call():
        [group_id] = client.list_groups()
    assert group_id.startswith("group:")

    with pytest.deprecated_call():
        info = client.group_info(group_id)
    assert isinstance(info, GroupInfo)
    assert (info.group_id, info.subject, info.members) == (group_id, "Sinch WhatsApp Team Group", [])
    assert info.admins == [info.creator] and info.creation_time

    with pytest.deprecated_call():
        client.set_group_subject(group_id, "Renamed")
    assert last_request(fresh_sandbox)["method"] == "PATCH"
    with pytest.deprecated_call():
        client.set_group_icon(group_id, "https://www.example.com/group_icon.jpg")

    fresh_sandbox.join_group(client.bot_id, group_id, "46732001122")
    fresh_sandbox.join_group(client.bot_id, group_id, "46732002244")
    with pytest.deprecated_call():
        client.add_group_admins(group_id, ["46732001122"])
    with pytest.deprecated_call():
        assert "46732001122" in client.group_info(group_id).admins
    with pytest.deprecated_call():
        client.remove_group_admins(group_id, ["46732001122"])
    with pytest.deprecated_call():
        client.remove_group_members(group_id, ["46732002244"])
    with pytest.deprecated_call():
        info = client.group_info(group_id)
    assert (info.subject, info.members, "46732001122" in info.admins) == ("Renamed", ["46732001122"], False)

    with pytest.deprecated_call():
        link = client.get_group_invite(group_id)
    assert link.startswith("https://chat.whatsapp.com/")
    with pytest.deprecated_call():
        client.delete_group_invite(group_id)
    with pytest.deprecated_call():
        client.leave_group(group_id)
    with pytest.deprecated_call():
        assert client.list_groups() == []
    group_paths = {entry["path"].split("/whatsapp/v1/support-bot/")[1] for entry in fresh_sandbox.requests_log}
    assert f"groups/{group_id}/admin" in group_paths and f"groups/{group_id}/invite" in group_paths


def test_group_warning_points_at_the_caller(client):
    with pytest.warns(DeprecationWarning) as caught:
        client.list_groups()
    assert caught[0].filename == __file__


def test_creating_a_group_is_never_repeated(client, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=502, path_contains="/groups")
    with pytest.deprecated_call(), pytest.raises(SinchUnavailable):
        client.create_group("Once")
    assert fresh_sandbox.count("POST", "/groups") == 1


def test_results_are_dataclasses():
    for result in (BlacklistPage, GroupInfo, MediaProviderInfo, StickerInfo, StickerpackInfo, StoredCallbacksPage):
        assert is_dataclass(result)
