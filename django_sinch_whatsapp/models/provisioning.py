"""Mirrors of what a bot has provisioned at Sinch: media providers, stickerpacks, stickers.

Rows are written only by :mod:`django_sinch_whatsapp.services.provisioning`,
after Sinch accepted the change (or by a sync that reads Sinch's lists), so
people can list them without a call. Sinch stays the source of truth.

Media provider passwords and bearer tokens are not stored at all: Sinch holds
them, nothing here needs them again, and a secret that is never written
cannot leak from a database dump, the admin or a log.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .bots import Bot


class MediaProviderKind(models.TextChoices):
    BASIC = "basic", _("Basic authentication")
    BEARER = "bearer", _("Bearer token")
    UNKNOWN = "unknown", _("unknown (not understood)")


class MediaProvider(models.Model):
    """A media provider (whatsapp-media-provider.md): how Sinch downloads media from a protected host."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="media_providers")
    name = models.CharField(
        _("name"),
        max_length=200,
        help_text=_("A-Z, a-z, '-' and '_' only, at most 200 characters. Reusing a name overwrites that provider."),
    )
    kind = models.CharField(_("authentication"), max_length=16, choices=MediaProviderKind.choices)
    username = models.CharField(
        _("username"), max_length=200, blank=True, default="", help_text=_("Basic authentication user name.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    synced_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When Sinch's provider list last confirmed this provider.")
    )

    class Meta:
        verbose_name = _("media provider")
        ordering = ["bot", "name"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "name"], name="sinch_whatsapp_media_provider_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def __repr__(self) -> str:
        return f"<MediaProvider pk={self.pk} bot_id={self.bot_id} name={self.name!r} kind={self.kind!r}>"


class StickerpackNamespace(models.TextChoices):
    WHATSAPP = "whatsapp", _("WhatsApp (first-party)")
    THIRD_PARTY = "third_party", _("third-party (ours)")


class Stickerpack(models.Model):
    """A stickerpack (whatsapp-stickerpack-management.md); only third-party packs can be changed."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="stickerpacks")
    sinch_id = models.CharField(_("Sinch stickerpack id"), max_length=100)
    namespace = models.CharField(
        max_length=16, choices=StickerpackNamespace.choices, default=StickerpackNamespace.THIRD_PARTY
    )
    name = models.CharField(_("name"), max_length=200, help_text=_("The stickerpack's name."))
    publisher = models.CharField(_("publisher"), max_length=200, help_text=_("Who publishes the stickerpack."))
    ios_app_store_link = models.URLField(
        max_length=500, blank=True, default="", help_text=_("Link to the stickerpack in the Apple App Store.")
    )
    android_app_store_link = models.URLField(
        max_length=500, blank=True, default="", help_text=_("Link to the stickerpack in Google Play.")
    )
    raw = models.JSONField(default=dict, blank=True, help_text=_("Sinch's last answer about this stickerpack."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("stickerpack")
        ordering = ["bot", "namespace", "name"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "sinch_id"], name="sinch_whatsapp_stickerpack_unique_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} by {self.publisher}" if self.publisher else (self.name or self.sinch_id)

    @property
    def is_editable(self) -> bool:
        return self.namespace == StickerpackNamespace.THIRD_PARTY


class Sticker(models.Model):
    """One sticker of a stickerpack; ``sinch_id`` is what a sticker message sends."""

    stickerpack = models.ForeignKey(Stickerpack, on_delete=models.CASCADE, related_name="stickers")
    index = models.CharField(_("index"), max_length=20, help_text=_("The sticker's place in its pack ('0', '1' ...)."))
    sinch_id = models.CharField(_("Sinch sticker id"), max_length=100, blank=True, default="")
    url = models.URLField(
        max_length=1000, blank=True, default="", help_text=_("The image URL it was made from (known when made here).")
    )
    emojis = models.JSONField(default=list, blank=True, help_text=_("Up to three emojis."))
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("sticker")
        ordering = ["stickerpack", "index"]
        constraints = [
            models.UniqueConstraint(fields=["stickerpack", "index"], name="sinch_whatsapp_sticker_unique_index"),
        ]

    def __str__(self) -> str:
        emojis = "".join(self.emojis) if isinstance(self.emojis, list) else ""
        return f"sticker {self.index} {emojis}".strip()
