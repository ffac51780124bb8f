"""Media providers, stickerpacks and stickers as Sinch last told us (read-only; tenant-scoped).

They change through ``services`` (``add_media_provider``, ``create_stickerpack``,
``sync_*`` ...), which call Sinch first and then record its answer: an edit or a
delete here would only make our copy disagree with Sinch, so none is offered.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..models import MediaProvider, Sticker, Stickerpack
from .common import BotColumnMixin, ReadOnlyAdminMixin, TenantScopedAdminMixin
from .timestamps import TimestampsToTheSecondMixin


class SinchCopyAdminMixin(ReadOnlyAdminMixin):
    """Viewable only: the object lives at Sinch, and this is our record of it."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MediaProvider)
class MediaProviderAdmin(
    TenantScopedAdminMixin, TimestampsToTheSecondMixin, BotColumnMixin, SinchCopyAdminMixin, admin.ModelAdmin
):
    list_display = ["name", "bot_name", "kind", "username", "synced_at"]
    list_filter = ["kind", "bot"]
    search_fields = ["name", "username"]
    list_select_related = ["bot"]
    readonly_fields = ["bot", "name", "kind", "username", "created_at", "updated_at", "synced_at"]
    fields = list(readonly_fields)


class StickerInline(SinchCopyAdminMixin, admin.TabularInline):
    model = Sticker
    extra = 0
    can_delete = False
    readonly_fields = ["index", "sinch_id", "url", "emojis", "updated_at"]
    fields = list(readonly_fields)
    ordering = ["index"]


@admin.register(Stickerpack)
class StickerpackAdmin(
    TenantScopedAdminMixin, TimestampsToTheSecondMixin, BotColumnMixin, SinchCopyAdminMixin, admin.ModelAdmin
):
    list_display = ["name", "bot_name", "sinch_id", "namespace", "publisher", "synced_at"]
    list_filter = ["namespace", "bot"]
    search_fields = ["name", "sinch_id", "publisher"]
    list_select_related = ["bot"]
    readonly_fields = [
        "bot",
        "sinch_id",
        "namespace",
        "name",
        "publisher",
        "ios_app_store_link",
        "android_app_store_link",
        "created_at",
        "updated_at",
        "synced_at",
    ]
    fields = list(readonly_fields)
    inlines = [StickerInline]


@admin.register(Sticker)
class StickerAdmin(TenantScopedAdminMixin, TimestampsToTheSecondMixin, SinchCopyAdminMixin, admin.ModelAdmin):
    list_display = ["stickerpack", "index", "sinch_id", "url"]
    list_filter = [("stickerpack__bot", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["sinch_id", "stickerpack__name"]
    list_select_related = ["stickerpack", "stickerpack__bot"]
    readonly_fields = ["stickerpack", "index", "sinch_id", "url", "emojis", "created_at", "updated_at"]
    fields = list(readonly_fields)

    @admin.display(description=_("bot"), ordering="stickerpack__bot__name")
    def bot_name(self, obj: Sticker) -> str:
        return obj.stickerpack.bot.name
