"""Stickerpacks and stickers at Sinch, mirrored in :class:`~django_sinch_whatsapp.models.Stickerpack` and ``Sticker``.

Sinch is called first; the mirror changes only once Sinch has accepted. Only
third-party packs can be changed; WhatsApp (first-party) packs are read only.
No database transaction is held open across a Sinch call.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from ..clients import client_for_bot
from ..exceptions import MessageValidationError, SinchUnexpectedAnswer
from ..models import Bot, Sticker, Stickerpack, StickerpackNamespace
from ..transports.base import Feature
from .guards import require_feature


def create_stickerpack(
    bot: Bot, *, publisher: str, name: str, ios_app_store_link: str = "", android_app_store_link: str = ""
) -> Stickerpack:
    """Create a third-party stickerpack at Sinch and mirror it."""
    require_feature(bot, Feature.STICKERPACKS)
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
    require_feature(stickerpack.bot, Feature.STICKERPACKS)
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
    require_feature(stickerpack.bot, Feature.STICKERPACKS)
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
    require_feature(bot, Feature.STICKERPACKS)
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
    require_feature(stickerpack.bot, Feature.STICKERPACKS)
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
    require_feature(stickerpack.bot, Feature.STICKERPACKS)
    _editable(stickerpack)
    client = client_for_bot(stickerpack.bot)
    index = client.create_sticker(stickerpack.sinch_id, url, emojis)
    info = client.get_sticker(stickerpack.sinch_id, index, stickerpack.namespace)
    if not info.id:
        # Never a row with an empty id: a sticker message needs it. sync_stickers finds it later.
        raise SinchUnexpectedAnswer(
            "Unexpected answer",
            f"sticker {index} of stickerpack {stickerpack.sinch_id} was created, but Sinch's answer has no id; "
            "sync the stickers to mirror it",
        )
    return Sticker.objects.create(
        stickerpack=stickerpack,
        index=index,
        url=url,
        emojis=info.emojis or list(emojis),
        sinch_id=info.id,
        raw=info.raw,
    )


def update_sticker(sticker: Sticker, *, url: str | None = None, emojis: Sequence[str] | None = None) -> Sticker:
    require_feature(sticker.stickerpack.bot, Feature.STICKERPACKS)
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
    require_feature(sticker.stickerpack.bot, Feature.STICKERPACKS)
    pack = sticker.stickerpack
    _editable(pack)
    client_for_bot(pack.bot).delete_sticker(pack.sinch_id, sticker.index)
    sticker.delete()
