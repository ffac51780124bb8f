"""Raw callbacks: read-only evidence of what Sinch sent, and a way to process them again."""

from __future__ import annotations

from collections import Counter

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ..callbacks.processing import process_callback_event
from ..models import Bot, CallbackEvent, CallbackRefusalStats, ProcessingState
from .common import BotColumnMixin, ReadOnlyAdminMixin, TenantScopedAdminMixin, json_block, truncate, user_may_change
from .large_tables import LargeTableAdminMixin
from .timestamps import TimestampsToTheSecondMixin

#: How many resulting rows the change page links to.
EFFECTS_SHOWN = 20


def callback_contents(payload: object) -> str:
    """ "2 statuses", "1 inbound", "1 error", "2 statuses, 1 inbound"; "-" for a body that was not read."""
    if not isinstance(payload, dict):
        return "-"
    parts = []
    statuses = payload.get("statuses")
    if isinstance(statuses, list) and statuses:
        parts.append(f"{len(statuses)} status{'es' if len(statuses) != 1 else ''}")
    notifications = payload.get("notifications")
    if isinstance(notifications, list) and notifications:
        errors = sum(
            1
            for entry in notifications
            if isinstance(entry, dict)
            and isinstance(entry.get("message"), dict)
            and entry["message"].get("type") == "error"
        )
        if len(notifications) - errors:
            parts.append(f"{len(notifications) - errors} inbound")
        if errors:
            parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    return ", ".join(parts) or "-"


def refusal_summary(bot: Bot) -> str:
    """One line for people: how many callbacks were refused, when last, why, from where (never a body)."""
    try:
        stats = bot.callback_refusals
    except CallbackRefusalStats.DoesNotExist:
        return str(_("None refused."))
    where = f" from {stats.last_remote_addr}" if stats.last_remote_addr else ""
    return f"{stats.count} refused; last {stats.last_at:%Y-%m-%d %H:%M:%S} UTC{where}: {stats.last_reason}"


class CallbackRefusalsAdminMixin:
    """The bot page's read-only "refused callbacks" field (issue 7: forged callbacks leave a trace)."""

    @admin.display(description=_("refused callbacks"))
    def refused_callbacks(self, obj: Bot) -> str:
        return refusal_summary(obj)


@admin.register(CallbackEvent)
class CallbackEventAdmin(
    LargeTableAdminMixin,
    TenantScopedAdminMixin,
    TimestampsToTheSecondMixin,
    BotColumnMixin,
    ReadOnlyAdminMixin,
    admin.ModelAdmin,
):
    """Read-only, and never deleted here: stored nonces are the replay guard, so only the
    retention rule (``manage.py sinch_whatsapp_prune_callbacks``, at least two days) deletes them."""

    list_display = [
        "received_at",
        "bot_name",
        "held",
        "signature_verdict",
        "verified_with",
        "processing_state",
        "attempts",
        "error_summary",
    ]
    list_filter = ["processing_state", "signature_verdict", "bot"]
    list_select_related = ["bot"]
    # A nonce, or the Sinch id of a message a callback reported on or carried (found through its rows).
    search_fields = ["=nonce", "status_events__sinch_message_id", "inbound_messages__sinch_message_id"]
    search_help_text = _("A callback's nonce (exact), or the Sinch message id of a status report or inbound message.")
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    readonly_fields = [
        "id",
        "bot",
        "received_at",
        "remote_addr",
        "signature_verdict",
        "verified_with",
        "nonce",
        "processing_state",
        "attempts",
        "processed_at",
        "processing_error_text",
        "effects",
        "headers_json",
        "raw_body",
    ]
    fieldsets = [
        (None, {"fields": ["id", "bot", "received_at", "remote_addr"]}),
        (_("Signature"), {"fields": ["signature_verdict", "verified_with", "nonce"]}),
        (
            _("Processing"),
            {"fields": ["processing_state", "attempts", "processed_at", "processing_error_text", "effects"]},
        ),
        (_("As received"), {"fields": ["headers_json", "raw_body"]}),
    ]

    @admin.display(description=_("held"))
    def held(self, obj: CallbackEvent) -> str:
        """What the body carried (whatsapp-callback.md): statuses, inbound messages, error notifications."""
        return callback_contents(obj.payload)

    @admin.display(description=_("error"))
    def error_summary(self, obj: CallbackEvent) -> str:
        # The last line of a traceback names the exception.
        lines = obj.processing_error.strip().splitlines()
        return truncate(lines[-1]) if lines else ""

    @admin.display(description=_("processing error"))
    def processing_error_text(self, obj: CallbackEvent) -> SafeString | str:
        if not obj.processing_error:
            return "-"
        return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', obj.processing_error)

    @admin.display(description=_("headers"))
    def headers_json(self, obj: CallbackEvent) -> SafeString:
        return json_block(obj.headers)

    @admin.display(description=_("raw body"))
    def raw_body(self, obj: CallbackEvent) -> SafeString:
        return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', obj.body_text)

    @admin.display(description=_("resulting rows"))
    def effects(self, obj: CallbackEvent) -> SafeString | str:
        statuses = obj.status_events.select_related("message").order_by("received_at", "id")[:EFFECTS_SHOWN]
        inbound = obj.inbound_messages.order_by("received_at", "id")[:EFFECTS_SHOWN]
        rows: list[tuple[str, str]] = []
        for status in statuses:
            if status.message is not None:
                url = reverse("admin:sinch_whatsapp_outboundmessage_change", args=[status.message.pk])
                rows.append((url, f"status '{status.state}' of {status.message}"))
            else:
                rows.append(("", f"status '{status.state}' of unknown message {status.sinch_message_id}"))
        for message in inbound:
            rows.append((reverse("admin:sinch_whatsapp_inboundmessage_change", args=[message.pk]), str(message)))
        if not rows:
            return "-"
        return format_html_join(
            "",
            "<div>{}</div>",
            ((format_html('<a href="{}">{}</a>', url, text) if url else text,) for url, text in rows),
        )

    def has_delete_permission(self, request: HttpRequest, obj: CallbackEvent | None = None) -> bool:
        return False

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return user_may_change(request, CallbackEvent)

    @admin.action(description=_("Reprocess selected callbacks"), permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[CallbackEvent]) -> None:
        """Apply the stored bodies again: idempotent, so processed callbacks change nothing."""
        outcomes: Counter[str] = Counter()
        for event in queryset.select_related("bot").order_by("received_at"):
            try:
                outcomes[process_callback_event(event)] += 1
            except Exception as err:  # recorded on the row (with traceback) by process_callback_event
                outcomes[ProcessingState.FAILED] += 1
                self.message_user(
                    request, f"Callback {event.pk} failed again: {type(err).__name__}: {err}", messages.ERROR
                )
        done = sum(count for state, count in outcomes.items() if state != ProcessingState.FAILED)
        if done:
            summary = ", ".join(
                f"{count} {ProcessingState(state).label}" for state, count in sorted(outcomes.items()) if count
            )
            self.message_user(request, f"Reprocessed {done} callback(s): {summary}.", messages.SUCCESS)
