"""Provisioning: opt-in/out, capability, mark-as-read, blacklist, media providers, stickerpacks.

Each function calls Sinch first and records the effect only once Sinch has
accepted it: contacts' opt-in state and capability, an inbound message's
``read_at``, and the media provider and stickerpack mirrors
(:mod:`django_sinch_whatsapp.models.provisioning`). No database transaction is
held open across a Sinch call.

Numbers are normalized like recipients of a send (``+46 73-200 11 22`` ->
``46732001122`` on the wire, ``+46732001122`` on contacts); invalid ones are
reported per number in the outcome while the valid ones are still sent, in
requests of at most 20 numbers. A batch Sinch refuses is reported with its
error and the other batches still go.

The blacklist has no mirror: Sinch applies changes within about five minutes
(whatsapp-blacklist-callback.md), so a local copy would claim states Sinch does
not yet apply, and its paged list is cheap to read when someone asks.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..client.client import MAX_NUMBERS_PER_REQUEST, SinchWhatsAppClient
from ..client.results import MediaProviderInfo
from ..clients import client_for_bot
from ..exceptions import MessageValidationError, SinchAPIError
from ..models import (
    Bot,
    Capability,
    InboundMessage,
    MediaProvider,
    MediaProviderKind,
    OptInState,
    Sticker,
    Stickerpack,
    StickerpackNamespace,
)
from ..phone import Recipient, best_effort_e164
from .recipients import RejectedRecipient, contacts_for, normalize_numbers

logger = logging.getLogger("django_sinch_whatsapp.services")

#: ``Contact.opt_in_source`` holds 200 characters.
_SOURCE_MAX_LENGTH = 200


# -- outcomes -----------------------------------------------------------------------------------


@dataclass
class FailedBatch:
    """Numbers (E.164) of one request Sinch refused or did not answer, and why."""

    numbers: list[str]
    error: SinchAPIError


@dataclass
class NumbersOutcome:
    """What a call over a list of numbers did: ``done`` (E.164) Sinch accepted, the rest and why."""

    done: list[str] = field(default_factory=list)
    rejected: list[RejectedRecipient] = field(default_factory=list)
    failed: list[FailedBatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected and not self.failed

    @property
    def errors(self) -> list[SinchAPIError]:
        return [batch.error for batch in self.failed]


@dataclass
class CapabilityOutcome(NumbersOutcome):
    """``capable`` maps each E.164 number Sinch answered for to its WhatsApp capability."""

    capable: dict[str, bool] = field(default_factory=dict)


# -- numbers ----------------------------------------------------------------------------------------


def _in_batches(
    bot: Bot,
    numbers: Sequence[str] | str,
    call: Callable[[SinchWhatsAppClient, list[str]], Any],
    on_success: Callable[[list[Recipient], Any], None] | None = None,
    outcome: NumbersOutcome | None = None,
) -> NumbersOutcome:
    """Normalize, then ``call(client, wire_numbers)`` per batch of 20; record successes as they come."""
    recipients, rejected = normalize_numbers(numbers, field="numbers", allow_groups=False)
    outcome = outcome if outcome is not None else NumbersOutcome()
    outcome.rejected.extend(rejected)
    client = client_for_bot(bot)
    for start in range(0, len(recipients), MAX_NUMBERS_PER_REQUEST):
        batch = recipients[start : start + MAX_NUMBERS_PER_REQUEST]
        try:
            answer = call(client, [item.wire for item in batch])
        except SinchAPIError as err:
            logger.warning("Bot %s: %d number(s) not provisioned: %s", bot.pk, len(batch), err)
            outcome.failed.append(FailedBatch([item.e164 for item in batch], err))
            continue
        outcome.done.extend(item.e164 for item in batch)
        if on_success is not None:
            on_success(batch, answer)
    return outcome


def _record_opt_in(bot: Bot, state: str, source: str) -> Callable[[list[Recipient], Any], None]:
    def record(batch: list[Recipient], _answer: Any) -> None:
        now = timezone.now()
        with transaction.atomic():
            contacts_for(bot, [item.e164 for item in batch]).update(
                opt_in_state=state, opt_in_changed_at=now, opt_in_source=source, updated_at=now
            )

    return record


# -- opt-in, capability, read ------------------------------------------------------------------------


def opt_in(bot: Bot, numbers: Sequence[str] | str, *, source: str = "") -> NumbersOutcome:
    """``POST /provision/optin`` (whatsapp-opt-in-and-outs.md), then mark the contacts opted in.

    ``source`` says who or how (``"api:alice"``, ``"admin:bob"``, ``"web-form"``) and is kept on each contact.
    """
    record = _record_opt_in(bot, OptInState.OPTED_IN, source[:_SOURCE_MAX_LENGTH])
    return _in_batches(bot, numbers, lambda client, batch: client.opt_in(batch), record)


def opt_out(
    bot: Bot, numbers: Sequence[str] | str, *, source: str = "", deprecated_endpoint: bool = False
) -> NumbersOutcome:
    """``DELETE /provision/optin``, then mark the contacts opted out.

    ``deprecated_endpoint=True`` uses ``POST /provision/optout`` instead, which
    the page marks deprecated; it is only for accounts that still need it.
    """
    if deprecated_endpoint:
        warnings.warn(
            "POST /provision/optout is deprecated by Sinch; opt_out() uses DELETE /provision/optin by default "
            "(whatsapp-opt-in-and-outs.md).",
            DeprecationWarning,
            stacklevel=2,
        )

    def call(client: SinchWhatsAppClient, batch: list[str]) -> None:
        if deprecated_endpoint:
            client.opt_out_deprecated(batch)
        else:
            client.opt_out(batch)

    return _in_batches(bot, numbers, call, _record_opt_in(bot, OptInState.OPTED_OUT, source[:_SOURCE_MAX_LENGTH]))


def check_capability(bot: Bot, numbers: Sequence[str] | str) -> CapabilityOutcome:
    """``POST /capability`` (whatsapp-capability.md); stores capable/not capable and the time on each contact."""
    outcome = CapabilityOutcome()

    def record(batch: list[Recipient], answer: Any) -> None:
        by_wire = {item.wire: item.e164 for item in batch}
        # Sinch's msisdn may come back with or without '+': match on E.164.
        sent = set(by_wire.values())
        found: dict[str, bool] = {}
        for result in answer:
            number = by_wire.get(result.msisdn) or best_effort_e164(result.msisdn)
            if number in sent:
                found[number] = result.capable
        unanswered = sent - set(found)
        if unanswered:
            logger.warning("Bot %s: capability answer lacks %s", bot.pk, ", ".join(sorted(unanswered)))
        outcome.capable.update(found)
        now = timezone.now()
        with transaction.atomic():
            for capable in (True, False):
                chosen = [number for number, value in found.items() if value is capable]
                if chosen:
                    contacts_for(bot, chosen).update(
                        capability=Capability.CAPABLE if capable else Capability.NOT_CAPABLE,
                        capability_checked_at=now,
                        updated_at=now,
                    )

    _in_batches(bot, numbers, lambda client, batch: client.capability(batch), record, outcome)
    return outcome


def mark_read(inbound_message: InboundMessage, *, force: bool = False) -> InboundMessage:
    """``POST /events`` with ``type: read`` (whatsapp-callback.md), then set ``read_at``.

    A message already marked read is left alone unless ``force`` (no second call).
    """
    if inbound_message.read_at is not None and not force:
        return inbound_message
    client_for_bot(inbound_message.bot).mark_as_read(inbound_message.sinch_message_id)
    inbound_message.read_at = inbound_message.read_at or timezone.now()
    inbound_message.save(update_fields=["read_at"])
    return inbound_message


# -- blacklist (no mirror; see the module docstring) -----------------------------------------------------


def blacklist_add(bot: Bot, numbers: Sequence[str] | str) -> NumbersOutcome:
    """``POST /provision/blacklist``: these numbers stop generating inbound callbacks (within ~5 minutes)."""
    return _in_batches(bot, numbers, lambda client, batch: client.blacklist_add(batch))


def blacklist_remove(bot: Bot, numbers: Sequence[str] | str) -> NumbersOutcome:
    """``DELETE /provision/blacklist``."""
    return _in_batches(bot, numbers, lambda client, batch: client.blacklist_remove(batch))


def list_blacklist(bot: Bot) -> list[str]:
    """Every blacklisted number in E.164, read page by page from page 0."""
    return [best_effort_e164(number) for number in client_for_bot(bot).iter_blacklist()]


# -- media providers ---------------------------------------------------------------------------------


def add_media_provider(
    bot: Bot,
    name: str,
    *,
    username: str | None = None,
    password: str | None = None,
    bearer: str | None = None,
) -> MediaProvider:
    """Add or overwrite a media provider at Sinch (Basic: ``username`` + ``password``; or ``bearer``).

    The mirror row keeps name, kind and user name; the password or token is never stored.
    """
    client = client_for_bot(bot)
    if bearer is not None and (username is not None or password is not None):
        raise MessageValidationError("config", "takes either username and password (Basic) or bearer, not both")
    if bearer is not None:
        client.add_bearer_media_provider(name, bearer)
        kind, username = MediaProviderKind.BEARER, ""
    elif username is not None and password is not None:
        client.add_basic_media_provider(name, username, password)
        kind = MediaProviderKind.BASIC
    else:
        raise MessageValidationError("config", "needs username and password (Basic) or bearer")
    provider, _ = MediaProvider.objects.update_or_create(
        bot=bot, name=name, defaults={"kind": kind, "username": username or ""}
    )
    return provider


def delete_media_provider(bot: Bot, name: str) -> None:
    """Delete the provider at Sinch, then its mirror row."""
    client_for_bot(bot).delete_media_provider(name)
    MediaProvider.objects.filter(bot=bot, name=name).delete()


def sync_media_providers(bot: Bot) -> list[MediaProvider]:
    """Make the mirror match Sinch's provider list (rows for providers Sinch no longer has are removed)."""
    providers: list[MediaProviderInfo] = client_for_bot(bot).list_media_providers()
    now = timezone.now()
    kinds = set(MediaProviderKind.values)
    with transaction.atomic():
        rows = [
            MediaProvider.objects.update_or_create(
                bot=bot,
                name=info.name,
                defaults={
                    "kind": info.kind if info.kind in kinds else MediaProviderKind.UNKNOWN,
                    "username": info.username,
                    "synced_at": now,
                },
            )[0]
            for info in providers
            if info.name
        ]
        MediaProvider.objects.filter(bot=bot).exclude(name__in=[row.name for row in rows]).delete()
    return rows


# -- stickerpacks and stickers -------------------------------------------------------------------------------


def create_stickerpack(
    bot: Bot, *, publisher: str, name: str, ios_app_store_link: str = "", android_app_store_link: str = ""
) -> Stickerpack:
    """Create a third-party stickerpack at Sinch and mirror it."""
    sinch_id = client_for_bot(bot).create_stickerpack(
        publisher=publisher,
        name=name,
        ios_app_store_link=ios_app_store_link or None,
        android_app_store_link=android_app_store_link or None,
    )
    fields = {
        "publisher": publisher,
        "name": name,
        "ios_app_store_link": ios_app_store_link,
        "android_app_store_link": android_app_store_link,
    }
    return Stickerpack.objects.create(
        bot=bot,
        sinch_id=sinch_id,
        namespace=StickerpackNamespace.THIRD_PARTY,
        raw={key: value for key, value in fields.items() if value},
        **fields,
    )


def _editable(stickerpack: Stickerpack) -> None:
    if not stickerpack.is_editable:
        raise MessageValidationError(
            "stickerpack", "is a WhatsApp (first-party) stickerpack; only third-party packs can be changed"
        )


def update_stickerpack(
    stickerpack: Stickerpack,
    *,
    publisher: str | None = None,
    name: str | None = None,
    ios_app_store_link: str | None = None,
    android_app_store_link: str | None = None,
) -> Stickerpack:
    """``PATCH`` the fields given (each overwrites Sinch's value), then mirror them."""
    _editable(stickerpack)
    changes = {
        key: value
        for key, value in {
            "publisher": publisher,
            "name": name,
            "ios_app_store_link": ios_app_store_link,
            "android_app_store_link": android_app_store_link,
        }.items()
        if value is not None
    }
    client_for_bot(stickerpack.bot).update_stickerpack(stickerpack.sinch_id, **changes)
    for key, value in changes.items():
        setattr(stickerpack, key, value)
    stickerpack.raw = {**(stickerpack.raw or {}), **changes}
    stickerpack.save(update_fields=[*changes, "raw", "updated_at"])
    return stickerpack


def delete_stickerpack(stickerpack: Stickerpack) -> None:
    _editable(stickerpack)
    client_for_bot(stickerpack.bot).delete_stickerpack(stickerpack.sinch_id)
    stickerpack.delete()


def sync_stickerpacks(
    bot: Bot,
    namespaces: Sequence[str] = (StickerpackNamespace.THIRD_PARTY, StickerpackNamespace.WHATSAPP),
    *,
    include_stickers: bool = False,
) -> list[Stickerpack]:
    """Read each namespace's packs (one call per pack for its details) into the mirror; drop vanished ones."""
    client = client_for_bot(bot)
    now = timezone.now()
    packs: list[Stickerpack] = []
    for namespace in namespaces:
        infos = [client.get_stickerpack(pack_id, namespace) for pack_id in client.list_stickerpacks(namespace)]
        with transaction.atomic():
            rows = [
                Stickerpack.objects.update_or_create(
                    bot=bot,
                    sinch_id=info.id,
                    defaults={
                        "namespace": namespace,
                        "name": info.name,
                        "publisher": info.publisher,
                        "ios_app_store_link": info.ios_app_store_link,
                        "android_app_store_link": info.android_app_store_link,
                        "raw": info.raw,
                        "synced_at": now,
                    },
                )[0]
                for info in infos
            ]
            Stickerpack.objects.filter(bot=bot, namespace=namespace).exclude(
                sinch_id__in=[row.sinch_id for row in rows]
            ).delete()
        packs.extend(rows)
    if include_stickers:
        for pack in packs:
            sync_stickers(pack)
    return packs


def sync_stickers(stickerpack: Stickerpack) -> list[Sticker]:
    """Read the pack's stickers (one call per sticker for its id and emojis) into the mirror."""
    client = client_for_bot(stickerpack.bot)
    namespace = stickerpack.namespace
    infos = [
        client.get_sticker(stickerpack.sinch_id, index, namespace)
        for index in client.list_stickers(stickerpack.sinch_id, namespace)
    ]
    with transaction.atomic():
        rows = [
            Sticker.objects.update_or_create(
                stickerpack=stickerpack,
                index=info.index,
                defaults={"sinch_id": info.id, "emojis": info.emojis, "raw": info.raw},
            )[0]
            for info in infos
        ]
        Sticker.objects.filter(stickerpack=stickerpack).exclude(index__in=[row.index for row in rows]).delete()
    return rows


def add_sticker(stickerpack: Stickerpack, url: str, emojis: Sequence[str] = ()) -> Sticker:
    """Create a sticker at Sinch, mirror it, then read back its id (the create answer has only the index)."""
    _editable(stickerpack)
    client = client_for_bot(stickerpack.bot)
    index = client.create_sticker(stickerpack.sinch_id, url, emojis)
    sticker = Sticker.objects.create(stickerpack=stickerpack, index=index, url=url, emojis=list(emojis))
    info = client.get_sticker(stickerpack.sinch_id, index, stickerpack.namespace)
    sticker.sinch_id, sticker.raw = info.id, info.raw
    sticker.emojis = info.emojis or sticker.emojis
    sticker.save(update_fields=["sinch_id", "raw", "emojis", "updated_at"])
    return sticker


def update_sticker(sticker: Sticker, *, url: str | None = None, emojis: Sequence[str] | None = None) -> Sticker:
    pack = sticker.stickerpack
    _editable(pack)
    client_for_bot(pack.bot).update_sticker(pack.sinch_id, sticker.index, url=url, emojis=emojis)
    if url is not None:
        sticker.url = url
    if emojis is not None:
        sticker.emojis = list(emojis)
    sticker.save(update_fields=["url", "emojis", "updated_at"])
    return sticker


def delete_sticker(sticker: Sticker) -> None:
    pack = sticker.stickerpack
    _editable(pack)
    client_for_bot(pack.bot).delete_sticker(pack.sinch_id, sticker.index)
    sticker.delete()
