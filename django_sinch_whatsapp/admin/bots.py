"""Bots: set-up with write-only secrets, the webhook URL to give Sinch, and a credentials check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from ..clients import transport_for_bot
from ..exceptions import MessageValidationError, SinchAPIError, SinchConfigurationError
from ..forms import SecretFieldsFormMixin, WriteOnlySecretField, WriteOnlySecretWidget
from ..models import Bot
from ..sensitive import mark_sensitive_post_parameters
from ..services.guards import require_active
from ..transports import get_transport, transport_names
from ..transports.errors import FeatureNotSupported
from .callbacks import CallbackRefusalsAdminMixin
from .common import TenantScopedAdminMixin, sinch_error_text
from .console import console_urls
from .timestamps import TimestampsToTheSecondMixin

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts
    from django_stubs_ext import StrOrPromise

    _Fieldsets = list[tuple[StrOrPromise | None, _FieldOpts]]

SET_PLACEHOLDER = "set (hidden); type to replace"
NOT_SET_PLACEHOLDER = "not set"


class StoredSecretWidget(WriteOnlySecretWidget):
    """A write-only input whose placeholder says whether the bot has this secret stored.

    It asks the bot, not the value it is given: after a validation error that value is
    what was typed, which is never rendered.
    """

    def __init__(self, *, is_set: bool) -> None:
        super().__init__(attrs={"class": "vTextField"})  # the admin's width: the placeholder fits
        self.is_set = is_set

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, None, attrs)
        context["widget"]["attrs"]["placeholder"] = SET_PLACEHOLDER if self.is_set else NOT_SET_PLACEHOLDER
        return context


class BotForm(SecretFieldsFormMixin, forms.ModelForm):
    """Bot set-up. A secret input left empty keeps the stored secret; nothing stored is ever rendered."""

    base_url_override = forms.URLField(
        label=capfirst(Bot._meta.get_field("base_url_override").verbose_name),
        required=False,
        assume_scheme="https",
        # Wide enough for a whole sandbox or proxy URL (the admin's default input cuts it off).
        widget=forms.URLInput(attrs={"class": "vURLField", "size": 80, "style": "width: 40em; max-width: 100%"}),
        help_text=Bot._meta.get_field("base_url_override").help_text,
    )
    keep_current_key_as_previous = forms.BooleanField(
        label=_("Keep the current signing key as the previous key"),
        required=False,
        help_text=_(
            "For a key rotation: with a new signing key typed above, callbacks signed with the old key "
            "stay accepted until Sinch uses the new one."
        ),
    )
    remove_callback_key = forms.BooleanField(
        label=_("Remove the signing key"),
        required=False,
        help_text=_("Callbacks are then refused unless SINCH_WHATSAPP['REQUIRE_SIGNED_CALLBACKS'] is off."),
    )
    remove_previous_callback_key = forms.BooleanField(
        label=_("Remove the previous signing key"),
        required=False,
        help_text=_("End a key rotation: callbacks signed with the old key are refused from now on."),
    )

    class Meta:
        model = Bot
        fields = [
            "tenant",
            "name",
            "transport",
            "sinch_bot_id",
            "region",
            "default_region",
            "base_url_override",
            "bearer_token",
            "project_id",
            "app_id",
            "key_id",
            "key_secret",
            "conversation_region",
            "callback_key",
            "previous_callback_key",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, WriteOnlySecretField):
                # Always this widget: the model field's formfield() ends in TextField.formfield(),
                # which imposes a Textarea that renders "********", or the typed secret after an error.
                field.widget = StoredSecretWidget(is_set=bool(getattr(self.instance, name, None)))
        if "transport" in self.fields:
            # Optional in the form: a post that leaves it out (older scripts, tests) keeps the bot's transport.
            self.fields["transport"].required = False
        if not self.instance.pk:
            for name in ("keep_current_key_as_previous", "remove_callback_key", "remove_previous_callback_key"):
                self.fields.pop(name, None)

    def clean_transport(self) -> str:
        return str(self.cleaned_data.get("transport") or self.instance.transport)

    def _typed(self, name: str) -> bool:
        """Whether a secret input was filled in (the mixin has put the stored secret into an empty one)."""
        return bool(str(self.data.get(self.add_prefix(name)) or "").strip())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        stored_key = self.instance.callback_key if self.instance.pk else None
        typed_key = self._typed("callback_key")
        typed_previous = self._typed("previous_callback_key")
        if cleaned.get("remove_callback_key"):
            if typed_key or cleaned.get("keep_current_key_as_previous"):
                self.add_error("remove_callback_key", _("Either remove the signing key or replace it, not both."))
            else:
                cleaned["callback_key"] = ""
        if cleaned.get("remove_previous_callback_key"):
            if typed_previous or cleaned.get("keep_current_key_as_previous"):
                self.add_error("remove_previous_callback_key", _("Either remove the previous key or set it, not both."))
            else:
                cleaned["previous_callback_key"] = ""
        if cleaned.get("keep_current_key_as_previous"):
            if not typed_key or not stored_key:
                self.add_error(
                    "keep_current_key_as_previous",
                    _("Type the new signing key: the current one becomes the previous key."),
                )
            elif typed_previous:
                self.add_error("keep_current_key_as_previous", _("Leave the previous key empty: it is set for you."))
            else:
                cleaned["previous_callback_key"] = stored_key
        tenant = cleaned.get("tenant")
        moves = self.instance.moves_tenant(tenant.pk if tenant is not None else None)
        # Each transport's own credentials, named field by field (a stored secret counts).
        for name, message in self.instance.missing_credentials(cleaned).items():
            if name in self.fields and name not in self.errors:
                self.add_error(name, message)
        # The transport's write-only secret must not follow the bot to another tenant or host by itself.
        again = self.instance.secret_to_type_again(cleaned)
        if again is not None and again[0] in self.fields and not self._typed(again[0]):
            self.add_error(again[0], again[1])
        if moves and stored_key and not typed_key and not cleaned.get("remove_callback_key"):
            self.add_error("callback_key", _("Type the signing key again to move the bot to another tenant."))
        return cleaned


@admin.register(Bot)
class BotAdmin(TenantScopedAdminMixin, TimestampsToTheSecondMixin, CallbackRefusalsAdminMixin, admin.ModelAdmin):
    change_form_template = "admin/django_sinch_whatsapp/change_form.html"  # the console buttons
    change_list_template = "admin/django_sinch_whatsapp/bot_change_list.html"  # the dashboard button
    form = BotForm
    list_display = [
        "name",
        "transport",
        "sinch_bot_id",
        "sends_to",
        "tenant",
        "is_active",
        "signing",
        "rotating",
        "created_at",
    ]
    list_filter = ["transport", "region", "is_active"]
    search_fields = ["name", "sinch_bot_id"]
    list_select_related = ["tenant"]
    readonly_fields = [
        "webhook_path",
        "webhook_url",
        "refused_callbacks",
        "messaged_24h",
        "counters",
        "created_at",
        "updated_at",
    ]
    actions = ["verify_credentials"]

    def get_fieldsets(self, request: HttpRequest, obj: Bot | None = None) -> _Fieldsets:
        secrets: list[str | list[str] | tuple[str, ...]] = ["callback_key", "previous_callback_key"]
        if obj is not None and self.has_change_permission(request, obj):
            secrets += ["keep_current_key_as_previous", "remove_callback_key", "remove_previous_callback_key"]
        # Each registered transport's own fieldset (its title, fields and description).
        by_transport: dict[str, tuple[StrOrPromise, _FieldOpts]] = {}
        for name in transport_names():
            try:
                cls = get_transport(name)
            except (ImportError, SinchConfigurationError):
                continue
            fields: list[str | list[str] | tuple[str, ...]] = [
                field for field in cls.form_fields if field in self.form.base_fields
            ]
            if fields:
                options: _FieldOpts = {"fields": fields, "description": cls.form_description}
                by_transport[name] = (cls.form_title or name, options)
        chosen = obj.transport if obj is not None else None
        transports: _Fieldsets = []
        for name, (title, fieldset) in by_transport.items():
            if chosen is not None and name != chosen:
                # Another transport's fields stay reachable (to switch a bot over), folded away.
                fieldset = {**fieldset, "classes": ("collapse",)}
            transports.append((title, fieldset))
        transports.sort(key=lambda fieldset: "classes" in fieldset[1])  # the bot's own transport first
        fieldsets: _Fieldsets = [
            (
                None,
                {"fields": ["tenant", "name", "transport", "default_region", "base_url_override", "is_active"]},
            ),
            *transports,
            (_("Limits"), {"fields": ["rate_limit", "rate_burst", "messaging_tier"]}),
            (
                _("Secrets (write-only)"),
                {
                    "fields": secrets,
                    "description": _(
                        "Stored encrypted and never shown again. Leave an input empty to keep what is stored."
                    ),
                },
            ),
        ]
        if obj is not None:
            fieldsets += [
                (_("Callbacks"), {"fields": ["webhook_path", "webhook_url", "refused_callbacks"]}),
                (_("Activity"), {"fields": ["messaged_24h", "counters"]}),
                (_("History"), {"fields": ["created_at", "updated_at"]}),
            ]
        return fieldsets

    @sensitive_variables()
    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The add and change views: the typed secrets stay out of error reports (POST and frame locals)."""
        mark_sensitive_post_parameters(request)
        return super().changeform_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("unique template recipients, last 24 hours"))
    def messaged_24h(self, obj: Bot) -> str:
        from ..services.tiers import unique_recipients_24h

        used = unique_recipients_24h(obj)
        return f"{used:,} of {obj.messaging_tier:,}" if obj.messaging_tier else f"{used:,} (tier: unlimited)"

    @admin.display(description=_("counters"))
    def counters(self, obj: Bot) -> str:
        from ..observability import bot_counters

        return ", ".join(f"{name.replace('_', ' ')}: {value}" for name, value in bot_counters(obj).items())

    @admin.display(description=_("sends to"), ordering="region")
    def sends_to(self, obj: Bot) -> str:
        """Where requests really go: an override's host, else the region's Sinch host."""
        if obj.base_url_override:
            host = urlsplit(obj.base_url_override).netloc or obj.base_url_override
            return f"{host} (override; region {obj.region.upper()})"
        return str(obj.get_region_display())

    @admin.display(description=_("signed callbacks"), boolean=True)
    def signing(self, obj: Bot) -> bool:
        return bool(obj.callback_key)

    @admin.display(description=_("key rotation"), boolean=True)
    def rotating(self, obj: Bot) -> bool:
        return bool(obj.previous_callback_key)

    @admin.display(description=_("webhook path"))
    def webhook_path(self, obj: Bot) -> str:
        return obj.callback_path

    @admin.display(description=_("webhook URL to give Sinch"))
    def webhook_url(self, obj: Bot) -> str:
        return obj.callback_url or str(_("Set SINCH_WHATSAPP['PUBLIC_BASE_URL'] to build the absolute URL."))

    @admin.action(description=_("Verify credentials with Sinch"), permissions=["change"])
    def verify_credentials(self, request: HttpRequest, queryset: QuerySet[Bot]) -> None:
        for bot in queryset:
            where = str(bot)  # name, Sinch id or app, and where requests go: never a secret
            try:
                require_active(bot, "verify its credentials")
                # Each transport's own cheap call: an OAuth token, or a read-only listing; nothing of the
                # answer is shown (it may hold provider passwords).
                transport_for_bot(bot).verify_credentials()
            except SinchAPIError as err:
                self.message_user(request, f"{where}: {sinch_error_text(err)}", messages.ERROR)
            except (SinchConfigurationError, MessageValidationError, FeatureNotSupported) as err:
                self.message_user(request, f"{where}: {err}", messages.ERROR)
            else:
                self.message_user(request, f"{where}: credentials accepted by Sinch.", messages.SUCCESS)

    def get_urls(self) -> list[Any]:
        # The console's pages (send a message ...), before the admin's "<id>/" catch-all.
        return [*console_urls(self), *super().get_urls()]
