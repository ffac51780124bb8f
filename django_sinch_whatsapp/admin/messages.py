"""Contacts with their 24-hour window, outbound messages with state and history, inbound messages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ..models import CUSTOMER_CARE_WINDOW, Contact, InboundMessage, OutboundMessage, StatusEvent
from .actions import ContactActionsMixin, InboundActionsMixin
from .common import BotColumnMixin, ReadOnlyAdminMixin, TenantScopedAdminMixin, error_block, json_block, truncate
from .console import console_urls
from .large_tables import LargeTableAdminMixin
from .timestamps import TimestampsToTheSecondMixin


class WindowFilter(admin.SimpleListFilter):
    """whatsapp-message.md: session messages need an inbound message in the last 24 hours."""

    title = _("24-hour window")
    parameter_name = "window"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", _("open")), ("closed", _("closed"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Contact]) -> QuerySet[Contact]:
        cutoff = timezone.now() - CUSTOMER_CARE_WINDOW
        if self.value() == "open":
            return queryset.filter(last_inbound_at__gt=cutoff)
        if self.value() == "closed":
            return queryset.filter(Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lte=cutoff))
        return queryset


def _changelist_link(model: type[Model], text: str, **filters: Any) -> SafeString:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, text)


@admin.register(Contact)
class ContactAdmin(
    LargeTableAdminMixin,
    TenantScopedAdminMixin,
    TimestampsToTheSecondMixin,
    ContactActionsMixin,
    BotColumnMixin,
    admin.ModelAdmin,
):
    change_form_template = "admin/django_sinch_whatsapp/change_form.html"  # the console buttons
    list_display = ["number", "profile_name", "bot_name", "opt_in_state", "capability", "last_inbound_at", "window"]
    list_filter = [WindowFilter, "opt_in_state", "capability", "bot"]
    actions = ["opt_in", "opt_out", "check_capability"]
    search_fields = ["number", "profile_name"]
    list_select_related = ["bot"]
    date_hierarchy = "last_inbound_at"
    # Opt-in, capability and the window are written by services and callbacks, never by hand.
    readonly_fields = [
        "bot",
        "number",
        "profile_name",
        "window",
        "last_inbound_at",
        "opt_in_state",
        "opt_in_changed_at",
        "opt_in_source",
        "capability",
        "capability_checked_at",
        "capability_requested_at",
        "message_links",
        "created_at",
        "updated_at",
    ]
    fields = list(readonly_fields)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Every field is read-only: a contact's page is a view (no Save button). The actions
        # (opt in/out, capability) keep asking for the change permission (``has_sinch_permission``).
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def get_urls(self) -> list[Any]:
        # The console's pages, before the admin's "<id>/" catch-all.
        return [*console_urls(self), *super().get_urls()]

    @admin.display(description=_("24-hour window"))
    def window(self, obj: Contact) -> str:
        end = obj.window_ends_at
        if end is None:
            return "closed (no inbound message yet)"
        if obj.window_open:
            return f"open until {end:%Y-%m-%d %H:%M} UTC"
        return f"closed since {end:%Y-%m-%d %H:%M} UTC"

    @admin.display(description=_("messages"))
    def message_links(self, obj: Contact) -> SafeString:
        return format_html(
            "{} · {}",
            _changelist_link(InboundMessage, "inbound from this contact", contact__id__exact=obj.pk),
            _changelist_link(OutboundMessage, "outbound to this contact", contact__id__exact=obj.pk),
        )


class StatusEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StatusEvent
    fk_name = "message"
    template = "admin/django_sinch_whatsapp/history_inline.html"  # no caption repeated on every row
    extra = 0
    can_delete = False
    readonly_fields = ["received_at", "state", "status", "details", "occurred_at", "callback"]
    fields = list(readonly_fields)
    ordering = ["received_at", "id"]
    verbose_name_plural = _("status history (in arrival order)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[StatusEvent]:
        # The callback column links to each report's callback: one join, not a query per row.
        return super().get_queryset(request).select_related("callback")


@admin.register(OutboundMessage)
class OutboundMessageAdmin(
    LargeTableAdminMixin,
    TenantScopedAdminMixin,
    TimestampsToTheSecondMixin,
    BotColumnMixin,
    ReadOnlyAdminMixin,
    admin.ModelAdmin,
):
    change_form_template = "admin/django_sinch_whatsapp/change_form.html"  # the console buttons
    list_display = [
        "created_at",
        "bot_name",
        "recipient",
        "message_type",
        "state",
        "error_status",
        "error_summary",
    ]
    list_filter = ["state", "message_type", "bot"]
    search_fields = ["recipient", "sinch_message_id", "=id", "=batch_id"]
    list_select_related = ["bot"]
    date_hierarchy = "created_at"
    inlines = [StatusEventInline]
    readonly_fields = [
        "id",
        "bot",
        "contact",
        "recipient",
        "message_type",
        "batch_id",
        "sinch_message_id",
        "state",
        "sinch_status",
        "state_details",
        "state_changed_at",
        "created_at",
        "dispatched_at",
        "absent_confirmed_at",
        "retry_send_id",
        "sinch_error",
        "payload_json",
        "callback_url",
    ]

    def get_fieldsets(self, request: HttpRequest, obj: OutboundMessage | None = None) -> list[tuple[Any, Any]]:
        fieldsets: list[tuple[Any, Any]] = []
        if obj is not None and obj.error:
            fieldsets.append((_("Sinch error"), {"fields": ["sinch_error"]}))
        fieldsets += [
            (None, {"fields": ["id", "bot", "contact", "recipient", "message_type", "batch_id", "sinch_message_id"]}),
            (
                _("State"),
                {
                    "fields": [
                        "state",
                        "sinch_status",
                        "state_details",
                        "state_changed_at",
                        "created_at",
                        "dispatched_at",
                        *self._retry_fields(obj),
                    ]
                },
            ),
            (_("Sent to Sinch"), {"fields": ["payload_json", "callback_url"]}),
        ]
        return fieldsets

    def get_urls(self) -> list[Any]:
        # The console's pages, before the admin's "<id>/" catch-all.
        return [*console_urls(self), *super().get_urls()]

    @staticmethod
    def _retry_fields(obj: OutboundMessage | None) -> list[str]:
        """Shown only where they say something: a lost send confirmed absent, a message retried."""
        if obj is None:
            return []
        return [name for name in ("absent_confirmed_at", "retry_send_id") if getattr(obj, name) is not None]

    @admin.display(description=_("HTTP"), ordering="error_status_code")
    def error_status(self, obj: OutboundMessage) -> str:
        return str(obj.error_status_code) if obj.error_status_code else ""

    @admin.display(description=_("error"), ordering="error_message")
    def error_summary(self, obj: OutboundMessage) -> str:
        if not obj.error_message and not obj.error_details:
            return ""
        if obj.error_details:
            return truncate(f"{obj.error_message}: {obj.error_details}")
        return truncate(obj.error_message)

    @admin.display(description=_("Sinch error"))
    def sinch_error(self, obj: OutboundMessage) -> SafeString | str:
        return error_block(obj.error)

    @admin.display(description=_("message"))
    def payload_json(self, obj: OutboundMessage) -> SafeString:
        return json_block(obj.payload)


@admin.register(InboundMessage)
class InboundMessageAdmin(
    LargeTableAdminMixin,
    TenantScopedAdminMixin,
    TimestampsToTheSecondMixin,
    InboundActionsMixin,
    BotColumnMixin,
    ReadOnlyAdminMixin,
    admin.ModelAdmin,
):
    change_form_template = "admin/django_sinch_whatsapp/change_form.html"  # the console buttons
    list_display = ["received_at", "bot_name", "sender", "message_type", "preview", "read_at"]
    actions = ["mark_read"]
    list_filter = ["message_type", "bot"]
    search_fields = ["from_e164", "from_number", "text", "sinch_message_id"]
    list_select_related = ["bot", "contact"]
    date_hierarchy = "received_at"
    readonly_fields = [
        "bot",
        "contact",
        "sinch_message_id",
        "from_number",
        "from_e164",
        "to",
        "message_type",
        "text",
        "content_json",
        "replying_to_message_id",
        "replying_to_from",
        "forwarded",
        "frequently_forwarded",
        "referral",
        "sent_at",
        "received_at",
        "read_at",
        "callback",
    ]
    fields = list(readonly_fields)

    def get_urls(self) -> list[Any]:
        # The console's pages, before the admin's "<id>/" catch-all.
        return [*console_urls(self), *super().get_urls()]

    @admin.display(description=_("from"), ordering="from_e164")
    def sender(self, obj: InboundMessage) -> str:
        number = obj.from_e164 or obj.from_number
        if obj.contact is not None and obj.contact.profile_name:
            return f"{obj.contact.profile_name} ({number})"
        return number

    @admin.display(description=_("text"))
    def preview(self, obj: InboundMessage) -> str:
        return truncate(obj.text)

    @admin.display(description=_("message as Sinch sent it"))
    def content_json(self, obj: InboundMessage) -> SafeString:
        return json_block(obj.content)
