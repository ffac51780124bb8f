"""Campaigns: read-only progress (runs start from the command or the API, never from a form)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import Campaign
from ..services import campaigns
from .common import BotColumnMixin, ReadOnlyAdminMixin, TenantScopedAdminMixin


@admin.register(Campaign)
class CampaignAdmin(TenantScopedAdminMixin, BotColumnMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "name", "bot_name", "template_name", "accepted", "rejected", "finished_at", "created_at"]
    list_filter = ["bot"]
    list_select_related = ["bot"]
    search_fields = ["name", "template_name"]
    readonly_fields = [
        "bot",
        "name",
        "template_name",
        "language",
        "number_column",
        "param_columns",
        "lines_read",
        "accepted",
        "rejected",
        "progress",
        "rejected_rows",
        "imported_at",
        "finished_at",
        "created_at",
    ]
    exclude = ["updated_at"]

    @admin.display(description=_("progress"))
    def progress(self, obj: Campaign) -> str:
        summary = campaigns.summarize(obj)
        return (
            f"{summary.sent} sent, {summary.failed} failed, {summary.unknown} unknown, "
            f"{summary.pending} not yet sent (of {summary.accepted} accepted)"
        )

    @admin.display(description=_("rejected rows"))
    def rejected_rows(self, obj: Campaign) -> str:
        summary = campaigns.summarize(obj)
        reasons = "; ".join(f"{count} x {reason}" for reason, count in summary.rejected_reasons) or "none"
        lines = ", ".join(str(item.line) for item in summary.rejections)
        return f"{reasons}" + (f" (first lines: {lines})" if lines else "")
