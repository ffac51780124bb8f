"""Media providers: add, delete and sync at Sinch, mirrored in :class:`~django_sinch_whatsapp.models.MediaProvider`.

Sinch is called first; the mirror changes only once Sinch has accepted. No
database transaction is held open across a Sinch call.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..client.results import MediaProviderInfo
from ..clients import client_for_bot
from ..exceptions import MessageValidationError
from ..models import Bot, MediaProvider, MediaProviderKind
from ..transports.base import Feature
from .guards import require_feature


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
    require_feature(bot, Feature.MEDIA_PROVIDERS)
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
    require_feature(bot, Feature.MEDIA_PROVIDERS)
    client_for_bot(bot).delete_media_provider(name)
    MediaProvider.objects.filter(bot=bot, name=name).delete()


def sync_media_providers(bot: Bot) -> list[MediaProvider]:
    """Make the mirror match Sinch's provider list (rows for providers Sinch no longer has are removed)."""
    require_feature(bot, Feature.MEDIA_PROVIDERS)
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
