"""The operations console: bots with write-only secrets, messages with their history, raw callbacks."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .callbacks.processing import process_callback_event
from .clients import client_for_bot
from .exceptions import SecretDecryptionError, SinchAPIError
from .forms import SecretFieldsFormMixin
from .models import Bot, CallbackEvent, Contact, InboundMessage, OutboundMessage, StatusEvent


class ReadOnlyAdminMixin:
    """Logs are evidence: viewable and deletable, never edited or forged by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class BotForm(SecretFieldsFormMixin, forms.ModelForm):
    base_url_override = forms.URLField(
        required=False, assume_scheme="https", help_text=Bot._meta.get_field("base_url_override").help_text
    )

    class Meta:
        model = Bot
        fields = [
            "tenant",
            "name",
            "sinch_bot_id",
            "region",
            "base_url_override",
            "bearer_token",
            "callback_key",
            "previous_callback_key",
            "is_active",
        ]


def sinch_error_text(err: SinchAPIError) -> str:
    """What a person needs: Sinch's status, message and details, plus our hint."""
    text = f"Sinch answered {err.status_code or 'nothing'}: {err.message}"
    if err.details:
        text += f" ({err.details})"
    if err.hint:
        text += f" {err.hint}"
    return text


@admin.register(Bot)
class BotAdmin(admin.ModelAdmin):
    form = BotForm
    list_display = ["name", "sinch_bot_id", "region", "tenant", "is_active", "signing", "created_at"]
    list_filter = ["region", "is_active"]
    search_fields = ["name", "sinch_bot_id"]
    list_select_related = ["tenant"]
    readonly_fields = ["webhook_path", "webhook_url", "created_at", "updated_at"]
    actions = ["verify_credentials"]
    fieldsets = [
        (None, {"fields": ["tenant", "name", "sinch_bot_id", "region", "base_url_override", "is_active"]}),
        (_("Secrets (write-only)"), {"fields": ["bearer_token", "callback_key", "previous_callback_key"]}),
        (_("Callbacks"), {"fields": ["webhook_path", "webhook_url"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("signed callbacks"), boolean=True)
    def signing(self, obj: Bot) -> bool:
        return bool(obj.callback_key)

    @admin.display(description=_("webhook path"))
    def webhook_path(self, obj: Bot) -> str:
        return obj.callback_path if obj.pk else "-"

    @admin.display(description=_("webhook URL given to Sinch"))
    def webhook_url(self, obj: Bot) -> str:
        return (obj.callback_url or _("set SINCH_WHATSAPP['PUBLIC_BASE_URL'] to build it")) if obj.pk else "-"

    @admin.action(description=_("Verify credentials with Sinch"))
    def verify_credentials(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        for bot in queryset:
            try:
                # A read-only call that needs a valid token in the right region.
                client_for_bot(bot).request("GET", "provision/provider", idempotent=True)
            except SinchAPIError as err:
                self.message_user(request, f"{bot.name}: {sinch_error_text(err)}", messages.ERROR)
            except SecretDecryptionError as err:
                self.message_user(request, f"{bot.name}: {err}", messages.ERROR)
            else:
                self.message_user(request, f"{bot.name}: credentials accepted by Sinch.", messages.SUCCESS)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["number", "profile_name", "bot", "opt_in_state", "capability", "last_inbound_at", "window"]
    list_filter = ["opt_in_state", "capability", "bot"]
    search_fields = ["number", "profile_name"]
    list_select_related = ["bot"]
    readonly_fields = [
        "bot",
        "number",
        "profile_name",
        "opt_in_state",
        "opt_in_changed_at",
        "opt_in_source",
        "capability",
        "capability_checked_at",
        "last_inbound_at",
        "window",
        "created_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("24-hour window"))
    def window(self, obj: Contact) -> str:
        end = obj.window_ends_at
        if end is None:
            return "closed (no inbound message)"
        return f"open until {end:%Y-%m-%d %H:%M} UTC" if obj.window_open else f"closed since {end:%Y-%m-%d %H:%M} UTC"


class StatusEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StatusEvent
    fk_name = "message"
    extra = 0
    can_delete = False
    fields = ["state", "status", "details", "occurred_at", "received_at", "callback"]
    readonly_fields = fields
    ordering = ["received_at", "id"]
    verbose_name_plural = _("status history (in arrival order)")


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "bot", "recipient", "message_type", "state", "error_status_code", "error_message"]
    list_filter = ["state", "message_type", "bot"]
    search_fields = ["recipient", "sinch_message_id"]
    list_select_related = ["bot"]
    date_hierarchy = "created_at"
    inlines = [StatusEventInline]
    readonly_fields = [
        "id",
        "bot",
        "contact",
        "recipient",
        "message_type",
        "payload",
        "callback_url",
        "batch_id",
        "sinch_message_id",
        "state",
        "sinch_status",
        "state_details",
        "sinch_error",
        "created_at",
        "dispatched_at",
        "state_changed_at",
    ]
    fields = readonly_fields

    @admin.display(description=_("Sinch error"))
    def sinch_error(self, obj: OutboundMessage) -> str:
        error = obj.error
        if not error:
            return "-"
        return format_html(
            "<strong>{}</strong> {}<br>{}<br><em>{}</em>",
            error["status_code"] or "",
            error["message"],
            error["details"],
            error["hint"],
        )


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "bot", "from_e164", "message_type", "text", "read_at"]
    list_filter = ["message_type", "bot"]
    search_fields = ["from_e164", "from_number", "text", "sinch_message_id"]
    list_select_related = ["bot"]
    readonly_fields = [
        "bot",
        "contact",
        "sinch_message_id",
        "from_number",
        "from_e164",
        "to",
        "message_type",
        "text",
        "content",
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
    fields = readonly_fields


@admin.register(CallbackEvent)
class CallbackEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "bot", "signature_verdict", "verified_with", "processing_state", "attempts"]
    list_filter = ["processing_state", "signature_verdict", "bot"]
    list_select_related = ["bot"]
    actions = ["reprocess"]
    readonly_fields = [
        "id",
        "bot",
        "received_at",
        "remote_addr",
        "signature_verdict",
        "verified_with",
        "nonce",
        "headers",
        "raw_body",
        "processing_state",
        "processing_error",
        "attempts",
        "processed_at",
    ]
    fields = readonly_fields

    @admin.display(description=_("raw body"))
    def raw_body(self, obj: CallbackEvent) -> str:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", obj.body_text)

    @admin.action(description=_("Reprocess selected callbacks"))
    def reprocess(self, request: HttpRequest, queryset: QuerySet[CallbackEvent]) -> None:
        done = failed = 0
        for event in queryset.select_related("bot"):
            try:
                process_callback_event(event)
            except Exception as err:  # recorded on the row by process_callback_event
                failed += 1
                self.message_user(request, f"Callback {event.pk}: {type(err).__name__}: {err}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"Reprocessed {done} callback(s).", messages.SUCCESS)
