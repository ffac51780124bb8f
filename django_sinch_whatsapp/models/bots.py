"""Bots: a tenant's Sinch WhatsApp senders, with their secrets encrypted."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ..conf import app_settings
from ..fields import EncryptedSecretField, validate_header_secret


def new_webhook_id() -> str:
    return secrets.token_urlsafe(24)


def validate_base_url_override(url: str) -> None:
    """Only plain URLs to hosts in ``BASE_URL_OVERRIDE_HOSTS``: the override receives the bearer token.

    The client checks again before every request (:mod:`..client.targets`);
    this check gives people the reason at save time, naming the field.
    """
    if not url:
        return
    from django.core.exceptions import ValidationError

    from ..client.targets import UnsafeRequestTarget, check_target

    try:
        check_target(url, app_settings.override_hosts())
    except UnsafeRequestTarget as err:
        raise ValidationError({"base_url_override": err.reason}) from None


def validate_default_region(value: str) -> None:
    """A two-letter region phonenumbers knows (``SE``, ``us``), or empty for the setting's."""
    from django.core.exceptions import ValidationError

    from ..phone import is_region

    if value and not is_region(value.upper()):
        raise ValidationError(
            _("%(value)s is not a country code phone numbers are read in; use two capital letters such as SE or US."),
            params={"value": value},
        )


class Region(models.TextChoices):
    US = "us", _("US (us1.whatsapp.api.sinch.com)")
    EU = "eu", _("EU (eu1.whatsapp.api.sinch.com)")


class MessagingTier(models.IntegerChoices):
    """Unique users a business may message (business-initiated) per rolling 24 hours (Meta, 2025-10-07)."""

    TIER_250 = 250, _("250 per 24 hours")
    TIER_2K = 2_000, _("2,000 per 24 hours")
    TIER_10K = 10_000, _("10,000 per 24 hours")
    TIER_100K = 100_000, _("100,000 per 24 hours")


class ConversationRegion(models.TextChoices):
    """sinch-conversation-docs README, "Regions": an app lives in one; the other hosts answer 404."""

    US = "us", _("US (us.conversation.api.sinch.com)")
    EU = "eu", _("EU (eu.conversation.api.sinch.com)")
    BR = "br", _("Brazil (br.conversation.api.sinch.com)")


def transport_choices() -> list[tuple[str, str]]:
    """The registered transports (a callable, so a project's own transport needs no migration)."""
    from ..transports import transport_names

    return [(name, name) for name in transport_names()]


def _transport_class(name: str) -> Any:
    """The registered transport class, or None for a name nobody registered (the field's choices say so)."""
    from ..transports import UnknownTransport, get_transport

    try:
        return get_transport(name)
    except UnknownTransport:
        return None


def required_credentials(transport: str) -> tuple[str, ...]:
    """The credential fields a transport needs (its ``credential_fields``); model, admin form and API check them."""
    cls = _transport_class(transport)
    return tuple(cls.credential_fields) if cls is not None else ()


class BotQuerySet(models.QuerySet["Bot"]):
    def for_tenant(self, tenant: Any) -> BotQuerySet:
        return self.filter(tenant=tenant)

    def active(self) -> BotQuerySet:
        return self.filter(is_active=True)


class Bot(models.Model):
    """A Sinch WhatsApp bot (a business sender) owned by one tenant."""

    tenant = models.ForeignKey(
        app_settings.TENANT_MODEL,
        on_delete=models.CASCADE,
        related_name="sinch_whatsapp_bots",
        help_text=_("Who owns this bot. Set by SINCH_WHATSAPP['TENANT_MODEL']."),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("A name people recognise, e.g. 'Support line'."))
    transport = models.CharField(
        _("transport"),
        max_length=32,
        choices=transport_choices,
        default="whatsapp",
        help_text=_(
            "How this bot reaches Sinch: 'whatsapp' (the standalone WhatsApp API: bot id and bearer token) "
            "or 'conversation' (the Conversation API: project, app and access key)."
        ),
    )
    sinch_bot_id = models.CharField(
        _("Sinch bot id"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("whatsapp transport: the bot identifier Sinch gave you, used in every API path."),
    )
    bearer_token = EncryptedSecretField(
        _("bearer token"),
        blank=True,
        default="",
        # It goes in the Authorization header: a character HTTP cannot carry is refused where it enters.
        validators=[validate_header_secret],
        help_text=_("whatsapp transport: the bot's Sinch bearer token. Stored encrypted; never shown again."),
    )
    project_id = models.CharField(
        _("project id"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("conversation transport: the Sinch project id (dashboard, Conversation API > Apps)."),
    )
    app_id = models.CharField(
        _("app id"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("conversation transport: the Conversation API app that holds the WhatsApp channel."),
    )
    key_id = models.CharField(
        _("access key id"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("conversation transport: the access key id (dashboard, Settings > Access keys)."),
    )
    key_secret = EncryptedSecretField(
        _("access key secret"),
        blank=True,
        default="",
        # It goes in the token request's Basic auth header.
        validators=[validate_header_secret],
        help_text=_("conversation transport: the access key secret. Stored encrypted; never shown again."),
    )
    conversation_region = models.CharField(
        _("Conversation API region"),
        max_length=2,
        blank=True,
        default="",
        choices=ConversationRegion.choices,
        help_text=_("conversation transport: the region the app lives in (us, eu or br)."),
    )
    callback_key = EncryptedSecretField(
        _("callback signing key"),
        blank=True,
        default="",
        help_text=_("The HMAC key Sinch signs callbacks with. Stored encrypted; never shown again."),
    )
    previous_callback_key = EncryptedSecretField(
        _("previous callback signing key"),
        blank=True,
        default="",
        help_text=_("During a key rotation, the old key: callbacks signed with either are accepted."),
    )
    region = models.CharField(
        _("region"),
        max_length=8,
        choices=Region.choices,
        default=Region.US,
        help_text=_("The region the bot was provisioned in. The US and EU hosts are not interchangeable."),
    )
    default_region = models.CharField(
        _("default number region"),
        max_length=2,
        blank=True,
        default="",
        validators=[validate_default_region],
        help_text=_(
            "Country (two capital letters, e.g. SE) that national numbers such as 0732001122 are read in. "
            "Empty: SINCH_WHATSAPP['DEFAULT_REGION']; with neither, national numbers are refused."
        ),
    )
    base_url_override = models.URLField(
        _("base URL override"),
        blank=True,
        default="",
        help_text=_("Leave empty for Sinch. Set to a sandbox URL (e.g. http://127.0.0.1:8765/us1) to test."),
    )
    webhook_id = models.CharField(
        _("webhook id"),
        max_length=64,
        unique=True,
        default=new_webhook_id,
        editable=False,
        help_text=_("Unguessable part of this bot's callback URL."),
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive bots send nothing; their callbacks are still verified and stored."),
    )
    rate_limit = models.PositiveIntegerField(
        _("rate limit"),
        null=True,
        blank=True,
        validators=[MinValueValidator(2)],
        help_text=_(
            "Messages per second at most, in any one-second window, shared by every worker. "
            "Empty: SINCH_WHATSAPP['RATE_LIMIT_DEFAULTS'] for the bot's transport (WhatsApp 80/s)."
        ),
    )
    rate_burst = models.PositiveIntegerField(
        _("rate burst"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text=_(
            "Messages that may go at once (recipients per request, 1 to 20); less than the rate limit. "
            "Empty: a quarter of the rate limit, at most 20."
        ),
    )
    messaging_tier = models.PositiveIntegerField(
        _("messaging tier"),
        null=True,
        blank=True,
        choices=MessagingTier.choices,
        help_text=_(
            "Unique users this bot may message with templates per rolling 24 hours (WhatsApp Manager shows it). "
            "Empty: unlimited."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BotQuerySet.as_manager()

    class Meta:
        verbose_name = _("bot")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "sinch_bot_id"],
                condition=~models.Q(sinch_bot_id=""),
                name="sinch_whatsapp_bot_unique_per_tenant",
            ),
        ]

    def __str__(self) -> str:
        # Each transport says what Sinch calls the bot and where its requests go.
        cls = _transport_class(self.transport)
        return str(cls.bot_label(self)) if cls is not None else f"{self.name} ({self.transport})"

    def __repr__(self) -> str:
        return (
            f"<Bot pk={self.pk} transport={self.transport!r} sinch_bot_id={self.sinch_bot_id!r} "
            f"app_id={self.app_id!r} region={self.region!r}>"
        )

    def clean(self) -> None:
        super().clean()
        validate_base_url_override(self.base_url_override)
        errors: dict[str, Any] = dict(self.missing_credentials())
        if self.rate_limit and self.rate_burst and self.rate_burst >= self.rate_limit:
            errors["rate_burst"] = _("must be less than the rate limit (%(rate)s)") % {"rate": self.rate_limit}
        if errors:
            from django.core.exceptions import ValidationError

            raise ValidationError(errors)

    def missing_credentials(self, given: dict[str, Any] | None = None) -> dict[str, str]:
        """Field -> message for each credential the bot's transport needs and lacks.

        ``given`` (a form's or serializer's cleaned values) wins over what is stored:
        a write-only secret left empty in an edit keeps the stored one.
        """
        given = given or {}
        transport = str(given.get("transport") or self.transport)
        missing = {}
        for name in required_credentials(transport):
            value = given.get(name) or getattr(self, name)
            if not value:
                label = getattr(self._meta.get_field(name), "verbose_name", name)
                missing[name] = f"{label} is required for a bot on the {transport!r} transport."
        return missing

    def secret_to_type_again(self, given: dict[str, Any]) -> tuple[str, str] | None:
        """``(field, message)`` when saving ``given`` needs the transport's secret typed again, else None.

        Whoever moves a stored bot to another tenant, or changes where its requests
        go (the transport's ``location_fields``: region, base URL), must type its
        write-only secret (``secret_field``: the bearer token, the access key
        secret) again, or the stored one would follow by itself. The caller
        checks whether it was typed; ``given`` is a form's or serializer's values.
        """
        cls = _transport_class(str(given.get("transport") or self.transport))
        if self.pk is None or cls is None or not cls.secret_field:
            return None
        label = self._label(cls.secret_field)
        tenant = given.get("tenant")
        if self.moves_tenant(getattr(tenant, "pk", tenant)):
            return cls.secret_field, f"Type the {label} again to move the bot to another tenant."
        for name in cls.location_fields:
            stored = str(getattr(self, name) or "").rstrip("/")
            if str(given.get(name, stored) or "").rstrip("/") != stored:
                where = " or ".join(self._label(field) for field in cls.location_fields)
                return cls.secret_field, f"Type the {label} again when the {where} changes."
        return None

    def _label(self, name: str) -> str:
        return str(getattr(self._meta.get_field(name), "verbose_name", name))

    def moves_tenant(self, tenant_id: Any) -> bool:
        """Whether saving with ``tenant_id`` hands this stored bot, and its secrets, to another tenant.

        A move needs the secrets typed again (the bearer token, and the signing
        key when one is stored): whoever moves a bot must hold its credentials,
        or another tenant's users would send with credentials they never had.
        """
        return self.pk is not None and tenant_id is not None and str(tenant_id) != str(self.tenant_id)

    @property
    def base_url(self) -> str:
        if self.base_url_override:
            return self.base_url_override.rstrip("/")
        return app_settings.region_base_url(self.region)

    @property
    def callback_path(self) -> str:
        return reverse("sinch_whatsapp:callback", kwargs={"webhook_id": self.webhook_id})

    @property
    def callback_url(self) -> str:
        """Absolute webhook URL when ``PUBLIC_BASE_URL`` is set, else ''."""
        base = str(app_settings.PUBLIC_BASE_URL or "").rstrip("/")
        return f"{base}{self.callback_path}" if base else ""

    def signing_keys(self) -> list[tuple[str, str]]:
        """(label, key) pairs to verify callbacks with: current first."""
        keys = []
        if self.callback_key:
            keys.append(("current", self.callback_key.reveal()))
        if self.previous_callback_key:
            keys.append(("previous", self.previous_callback_key.reveal()))
        return keys
