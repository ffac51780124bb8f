"""Provisioning services against the sandbox over real HTTP, and the effects they record.

Opt-in runs once per transport (``kit``); capability on the Conversation API (answered later, by
callback) is in tests/test_conversation_contacts.py."""

from __future__ import annotations

import pytest
from django.utils import timezone

from django_sinch_whatsapp import services
from django_sinch_whatsapp.client.client import SinchWhatsAppClient
from django_sinch_whatsapp.clients import client_for_bot
from django_sinch_whatsapp.exceptions import MessageValidationError, SinchBadRequest
from django_sinch_whatsapp.models import (
    Capability,
    Contact,
    InboundMessage,
    MediaProvider,
    MediaProviderKind,
    OptInState,
    Sticker,
    Stickerpack,
    StickerpackNamespace,
)

pytestmark = pytest.mark.django_db

SECRET_PASSWORD = "s3cret-Basic-password-XYZ"
SECRET_BEARER = "s3cret-Bearer-token-XYZ"


def numbers(n, start=46732000000):
    return [str(start + i) for i in range(n)]


def contact(bot, number):
    return Contact.objects.get(bot=bot, number=number)


def requests_to(sandbox, method, suffix):
    return [e for e in sandbox.requests_log if e["method"] == method and e["path"].endswith(suffix)]


# -- opt-in / opt-out --------------------------------------------------------------------------------------


def test_opt_in_normalizes_batches_and_records_who_and_when(kit, any_transport_bot, fresh_sandbox):
    bot = any_transport_bot
    before = timezone.now()
    given = [*numbers(44), "+46 73-200 11 22", "not-a-number", "12", "0046732001122"]
    outcome = services.opt_in(bot, given, source="api:alice")

    assert sorted(r.raw for r in outcome.rejected) == ["12", "not-a-number"]
    assert all(r.reason for r in outcome.rejected)
    assert outcome.failed == [] and not outcome.ok
    assert len(outcome.done) == 45 and "+46732001122" in outcome.done
    posts = kit.requests_to(fresh_sandbox, "POST", kit.opt_in_suffix)
    # whatsapp-opt-in-and-outs.md: up to 20 numbers per request; optins:register takes one recipient.
    assert [len(kit.numbers(p)) for p in posts] == ([20, 20, 5] if kit.per_request == 20 else [1] * 45)
    assert kit.numbers(posts[-1])[-1] == "46732001122"  # digits without '+', sent once
    if kit.name == "whatsapp":
        assert set(fresh_sandbox.state.require(bot.sinch_bot_id).opted_in) == {n.lstrip("+") for n in outcome.done}

    rows = Contact.objects.filter(bot=bot)
    assert rows.count() == 45
    assert set(rows.values_list("opt_in_state", "opt_in_source")) == {(OptInState.OPTED_IN, "api:alice")}
    assert all(row.opt_in_changed_at >= before for row in rows)


def test_opt_out_uses_delete_optin_and_records_the_source(sandbox_bot, fresh_sandbox):
    services.opt_in(sandbox_bot, ["46732001122", "46732002244"], source="api:alice")
    outcome = services.opt_out(sandbox_bot, ["+46732001122"], source="admin:bob")
    assert outcome.ok and outcome.done == ["+46732001122"]
    [request] = requests_to(fresh_sandbox, "DELETE", "/provision/optin")
    assert request["body"] == {"numbers": ["46732001122"]}
    assert fresh_sandbox.count("POST", "/provision/optout") == 0
    assert list(fresh_sandbox.state.require(sandbox_bot.sinch_bot_id).opted_in) == ["46732002244"]

    out, still_in = contact(sandbox_bot, "+46732001122"), contact(sandbox_bot, "+46732002244")
    assert (out.opt_in_state, out.opt_in_source) == (OptInState.OPTED_OUT, "admin:bob")
    assert (still_in.opt_in_state, still_in.opt_in_source) == (OptInState.OPTED_IN, "api:alice")
    assert out.opt_in_changed_at > still_in.opt_in_changed_at


def test_opt_out_through_the_deprecated_endpoint_warns(sandbox_bot, fresh_sandbox):
    with pytest.deprecated_call(match="optout"):
        outcome = services.opt_out(sandbox_bot, ["46732001122"], source="import", deprecated_endpoint=True)
    assert outcome.ok
    assert fresh_sandbox.count("POST", "/provision/optout") == 1
    assert fresh_sandbox.count("DELETE", "/provision/optin") == 0
    assert contact(sandbox_bot, "+46732001122").opt_in_state == OptInState.OPTED_OUT


def test_a_refused_batch_is_reported_and_the_others_still_recorded(kit, any_transport_bot, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=400, path_contains=kit.opt_in_suffix)
    outcome = services.opt_in(any_transport_bot, numbers(25), source="api:alice")
    [failed] = outcome.failed
    assert isinstance(failed.error, SinchBadRequest)
    refused = numbers(25)[: kit.per_request]  # the first request's numbers
    assert failed.numbers == ["+" + n for n in refused]
    assert outcome.done == ["+" + n for n in numbers(25)[len(refused) :]]
    assert outcome.errors == [failed.error]
    states = dict(Contact.objects.filter(bot=any_transport_bot).values_list("number", "opt_in_state"))
    assert set(states.values()) == {OptInState.OPTED_IN} and len(states) == 25 - len(refused)
    # A 400 is not repeated.
    assert len(kit.requests_to(fresh_sandbox, "POST", kit.opt_in_suffix)) == kit.requests_for(25)


def test_opt_in_without_numbers_or_with_only_invalid_ones(any_transport_bot, fresh_sandbox):
    with pytest.raises(MessageValidationError):
        services.opt_in(any_transport_bot, [])
    outcome = services.opt_in(any_transport_bot, ["nope", "group:447506616260-1565342732"])
    assert [r.raw for r in outcome.rejected] == ["nope", "group:447506616260-1565342732"]
    assert fresh_sandbox.requests_log == []
    assert not Contact.objects.exists()


def test_long_sources_are_cut_to_the_column(any_transport_bot):
    services.opt_in(any_transport_bot, "46732001122", source="x" * 300)
    assert contact(any_transport_bot, "+46732001122").opt_in_source == "x" * 200


# -- capability ----------------------------------------------------------------------------------------


def test_check_capability_stores_the_answer_per_contact(sandbox_bot, fresh_sandbox):
    fresh_sandbox.set_capability(sandbox_bot.sinch_bot_id, "46732002244", False)
    Contact.objects.create(bot=sandbox_bot, number="+46732002244", profile_name="Known")
    before = timezone.now()
    outcome = services.check_capability(sandbox_bot, ["+46732001122", "46732002244", "bad"])
    assert outcome.capable == {"+46732001122": True, "+46732002244": False}
    assert [r.raw for r in outcome.rejected] == ["bad"]
    capable, not_capable = contact(sandbox_bot, "+46732001122"), contact(sandbox_bot, "+46732002244")
    assert capable.capability == Capability.CAPABLE
    assert not_capable.capability == Capability.NOT_CAPABLE and not_capable.profile_name == "Known"
    assert capable.capability_checked_at >= before and not_capable.capability_checked_at >= before


def test_check_capability_of_45_numbers_makes_3_requests(sandbox_bot, fresh_sandbox):
    outcome = services.check_capability(sandbox_bot, numbers(45))
    assert len(outcome.capable) == 45 and all(outcome.capable.values())
    assert [len(e["body"]["numbers"]) for e in requests_to(fresh_sandbox, "POST", "/capability")] == [20, 20, 5]
    assert Contact.objects.filter(bot=sandbox_bot, capability=Capability.CAPABLE).count() == 45


def test_capability_503_then_200_is_retried_and_recorded(sandbox_bot, fresh_sandbox):
    fresh_sandbox.faults.fail_next(1, status=503, path_contains="capability")
    outcome = services.check_capability(sandbox_bot, ["46732001122"])
    assert outcome.ok and outcome.capable == {"+46732001122": True}
    assert [e["status"] for e in fresh_sandbox.requests_log] == [503, 200]
    assert contact(sandbox_bot, "+46732001122").capability == Capability.CAPABLE


def test_capability_answers_with_a_plus_still_match(sandbox_bot, monkeypatch):
    from django_sinch_whatsapp.client.client import CapabilityResult

    monkeypatch.setattr(
        SinchWhatsAppClient, "capability", lambda self, batch: [CapabilityResult(f"+{n}", False) for n in batch]
    )
    outcome = services.check_capability(sandbox_bot, ["46732001122"])
    assert outcome.capable == {"+46732001122": False}
    assert contact(sandbox_bot, "+46732001122").capability == Capability.NOT_CAPABLE


# -- mark as read ------------------------------------------------------------------------------------------


def inbound(bot, sandbox):
    message_id = sandbox.inject_inbound(bot.sinch_bot_id, "46732001122", text="Hi")
    return InboundMessage.objects.create(
        bot=bot, sinch_message_id=message_id, from_number="46732001122", message_type="text", text="Hi"
    )


def test_mark_read_posts_the_event_and_sets_read_at(sandbox_bot, fresh_sandbox):
    message = inbound(sandbox_bot, fresh_sandbox)
    services.mark_read(message)
    [request] = requests_to(fresh_sandbox, "POST", "/events")
    assert request["body"] == {"type": "read", "message_id": message.sinch_message_id}
    assert request["status"] == 201
    assert fresh_sandbox.state.require(sandbox_bot.sinch_bot_id).inbound[message.sinch_message_id]["read"] is True
    message.refresh_from_db()
    assert message.read_at is not None


def test_mark_read_twice_calls_once_unless_forced(sandbox_bot, fresh_sandbox):
    message = inbound(sandbox_bot, fresh_sandbox)
    services.mark_read(message)
    first = InboundMessage.objects.get(pk=message.pk).read_at
    services.mark_read(message)
    assert fresh_sandbox.count("POST", "/events") == 1
    services.mark_read(message, force=True)
    assert fresh_sandbox.count("POST", "/events") == 2
    assert InboundMessage.objects.get(pk=message.pk).read_at == first


def test_mark_read_refused_by_sinch_leaves_read_at_empty(sandbox_bot, fresh_sandbox):
    message = InboundMessage.objects.create(
        bot=sandbox_bot, sinch_message_id="01UNKNOWN", from_number="46732001122", message_type="text"
    )
    with pytest.raises(SinchBadRequest):
        services.mark_read(message)
    assert InboundMessage.objects.get(pk=message.pk).read_at is None


# -- blacklist -----------------------------------------------------------------------------------------------


def test_blacklist_add_list_and_remove(sandbox_bot, fresh_sandbox):
    outcome = services.blacklist_add(sandbox_bot, [*numbers(105), "bogus"])
    assert [r.raw for r in outcome.rejected] == ["bogus"] and len(outcome.done) == 105
    assert fresh_sandbox.count("POST", "/provision/blacklist") == 6
    listed = services.list_blacklist(sandbox_bot)
    assert listed == ["+" + n for n in numbers(105)]
    assert [e["query"] for e in requests_to(fresh_sandbox, "GET", "/provision/blacklist")] == ["page=0", "page=1"]

    removed = services.blacklist_remove(sandbox_bot, ["+46 73-200 00 00"])
    assert removed.ok
    assert services.list_blacklist(sandbox_bot)[0] == "+46732000001"


# -- media providers ---------------------------------------------------------------------------------------


def test_add_media_providers_mirrors_them_without_their_secrets(sandbox_bot, fresh_sandbox):
    basic = services.add_media_provider(sandbox_bot, "basic_provider", username="user", password=SECRET_PASSWORD)
    bearer = services.add_media_provider(sandbox_bot, "bearer-provider", bearer=SECRET_BEARER)
    assert (basic.kind, basic.username) == (MediaProviderKind.BASIC, "user")
    assert (bearer.kind, bearer.username) == (MediaProviderKind.BEARER, "")
    assert {p.name for p in client_for_bot(sandbox_bot).list_media_providers()} == {"basic_provider", "bearer-provider"}

    stored = list(MediaProvider.objects.filter(bot=sandbox_bot).values())
    assert len(stored) == 2
    for row in MediaProvider.objects.all():
        for text in (str(row), repr(row), str(stored)):
            assert SECRET_PASSWORD not in text and SECRET_BEARER not in text
    assert str(basic) == "basic_provider (Basic authentication)"


def test_re_adding_a_provider_overwrites_its_mirror(sandbox_bot):
    services.add_media_provider(sandbox_bot, "media", bearer="token")
    services.add_media_provider(sandbox_bot, "media", username="user", password="pw")
    [row] = MediaProvider.objects.filter(bot=sandbox_bot)
    assert (row.kind, row.username) == (MediaProviderKind.BASIC, "user")


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("a" * 201, {"bearer": "token"}),
        ("bad name", {"bearer": "token"}),
        ("media", {}),
        ("media", {"username": "user"}),
        ("media", {"username": "user", "password": "pw", "bearer": "token"}),
    ],
)
def test_invalid_providers_send_nothing_and_store_nothing(sandbox_bot, fresh_sandbox, name, options):
    with pytest.raises(MessageValidationError):
        services.add_media_provider(sandbox_bot, name, **options)
    assert fresh_sandbox.count("POST", "/provision/provider") == 0
    assert not MediaProvider.objects.exists()


def test_provider_name_of_200_characters_is_mirrored(sandbox_bot):
    row = services.add_media_provider(sandbox_bot, "b" * 200, bearer="token")
    assert MediaProvider.objects.get(pk=row.pk).name == "b" * 200


def test_delete_media_provider_removes_it_there_and_here(sandbox_bot, fresh_sandbox):
    services.add_media_provider(sandbox_bot, "doomed", bearer="token")
    services.add_media_provider(sandbox_bot, "kept", bearer="token")
    services.delete_media_provider(sandbox_bot, "doomed")
    assert fresh_sandbox.count("DELETE", "/provision/provider/doomed") == 1
    assert list(MediaProvider.objects.values_list("name", flat=True)) == ["kept"]


def test_sync_media_providers_follows_sinch(sandbox_bot, fresh_sandbox):
    client = client_for_bot(sandbox_bot)
    services.add_media_provider(sandbox_bot, "gone", bearer="token")
    services.add_media_provider(sandbox_bot, "changed", bearer="token")
    client.delete_media_provider("gone")  # changed at Sinch behind the mirror's back
    client.add_basic_media_provider("changed", "new-user", SECRET_PASSWORD)
    client.add_bearer_media_provider("made_elsewhere", SECRET_BEARER)

    rows = services.sync_media_providers(sandbox_bot)
    assert sorted(row.name for row in rows) == ["changed", "made_elsewhere"]
    mirrored = {row.name: row for row in MediaProvider.objects.filter(bot=sandbox_bot)}
    assert set(mirrored) == {"changed", "made_elsewhere"}
    assert (mirrored["changed"].kind, mirrored["changed"].username) == (MediaProviderKind.BASIC, "new-user")
    assert mirrored["made_elsewhere"].kind == MediaProviderKind.BEARER
    assert all(row.synced_at is not None for row in mirrored.values())
    dump = str(list(MediaProvider.objects.values())) + "".join(repr(r) + str(r) for r in mirrored.values())
    assert SECRET_PASSWORD not in dump and SECRET_BEARER not in dump


# -- stickerpacks --------------------------------------------------------------------------------------------


def test_stickerpack_and_sticker_mirror(sandbox_bot, fresh_sandbox):
    pack = services.create_stickerpack(sandbox_bot, publisher="My publisher name", name="My stickerpack")
    assert pack.sinch_id and pack.namespace == StickerpackNamespace.THIRD_PARTY and pack.is_editable
    assert str(pack) == "My stickerpack by My publisher name"
    client = client_for_bot(sandbox_bot)
    assert client.list_stickerpacks("third_party") == [pack.sinch_id]

    services.update_stickerpack(pack, name="Renamed", ios_app_store_link="https://apps.apple.com/app/id1")
    pack.refresh_from_db()
    assert (pack.name, pack.publisher, pack.ios_app_store_link) == (
        "Renamed",
        "My publisher name",
        "https://apps.apple.com/app/id1",
    )
    assert client.get_stickerpack(pack.sinch_id, "third_party").name == "Renamed"

    sticker = services.add_sticker(pack, "https://example.com/sticker.webp", ["🐥"])
    remote = client.get_sticker(pack.sinch_id, sticker.index, "third_party")
    assert (sticker.index, sticker.sinch_id, sticker.emojis) == ("0", remote.id, ["🐥"])
    assert sticker.url == "https://example.com/sticker.webp"

    services.update_sticker(sticker, emojis=["😃", "🐥"])
    assert Sticker.objects.get(pk=sticker.pk).emojis == ["😃", "🐥"]
    assert client.get_sticker(pack.sinch_id, "0", "third_party").emojis == ["😃", "🐥"]

    services.delete_sticker(sticker)
    assert not Sticker.objects.exists() and client.list_stickers(pack.sinch_id, "third_party") == []

    services.add_sticker(pack, "https://example.com/again.webp")
    services.delete_stickerpack(pack)
    assert not Stickerpack.objects.exists() and not Sticker.objects.exists()
    assert client.list_stickerpacks("third_party") == []


def test_sync_stickerpacks_reads_both_namespaces_and_drops_vanished_packs(sandbox_bot, fresh_sandbox):
    client = client_for_bot(sandbox_bot)
    ours = client.create_stickerpack(publisher="Us", name="Ours")
    client.create_sticker(ours, "https://example.com/s.webp", ["🎉"])
    stale = Stickerpack.objects.create(bot=sandbox_bot, sinch_id="vanished", name="Old", publisher="Us")

    packs = services.sync_stickerpacks(sandbox_bot, include_stickers=True)
    by_namespace = {pack.namespace: pack for pack in packs}
    assert set(by_namespace) == {"third_party", "whatsapp"}
    assert (by_namespace["third_party"].sinch_id, by_namespace["third_party"].name) == (ours, "Ours")
    assert by_namespace["whatsapp"].publisher == "WhatsApp" and not by_namespace["whatsapp"].is_editable
    assert by_namespace["whatsapp"].raw == {"publisher": "WhatsApp", "name": "Sandbox Cuppy"}
    assert not Stickerpack.objects.filter(pk=stale.pk).exists()
    assert list(by_namespace["third_party"].stickers.values_list("emojis", flat=True)) == [["🎉"]]
    first_party_stickers = by_namespace["whatsapp"].stickers.all()
    assert first_party_stickers.count() == 2 and all(s.sinch_id for s in first_party_stickers)

    client.delete_stickerpack(ours)
    assert [pack.namespace for pack in services.sync_stickerpacks(sandbox_bot)] == ["whatsapp"]
    assert Stickerpack.objects.filter(bot=sandbox_bot).count() == 1


def test_first_party_stickerpacks_cannot_be_changed(sandbox_bot, fresh_sandbox):
    [pack] = services.sync_stickerpacks(sandbox_bot, ["whatsapp"])
    before = len(fresh_sandbox.requests_log)
    with pytest.raises(MessageValidationError):
        services.update_stickerpack(pack, name="Mine now")
    with pytest.raises(MessageValidationError):
        services.add_sticker(pack, "https://example.com/s.webp")
    with pytest.raises(MessageValidationError):
        services.delete_stickerpack(pack)
    assert len(fresh_sandbox.requests_log) == before
    assert Stickerpack.objects.filter(pk=pack.pk).exists()


def test_services_are_exported():
    for name in ("opt_in", "opt_out", "check_capability", "mark_read", "add_media_provider", "sync_stickerpacks"):
        assert callable(getattr(services, name))
