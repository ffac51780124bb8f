"""Bots, contacts, messages and callbacks.

Only :mod:`django_sinch_whatsapp.services` and
:mod:`django_sinch_whatsapp.callbacks.processing` write message state.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..conf import app_settings
from ..fields import EncryptedSecretField

#: whatsapp-message.md: a customer care session lasts 24 hours after the last inbound message.
CUSTOMER_CARE_WINDOW = timedelta(hours=24)


def new_webhook_id() -> str:
    return secrets.token_urlsafe(24)


def validate_base_url_override(url: str) -> None:
    """Only hosts in ``BASE_URL_OVERRIDE_HOSTS``: elsewhere the override would receive the bearer token."""
    if not url:
        return
    from urllib.parse import urlsplit

    from django.core.exceptions import ValidationError

    host = (urlsplit(url).hostname or "").lower()
    allowed = [str(h).lower() for h in app_settings.BASE_URL_OVERRIDE_HOSTS]
    if host not in allowed:
        raise ValidationError(
            {
                "base_url_override": _(
                    "%(host)s is not an allowed override host (SINCH_WHATSAPP['BASE_URL_OVERRIDE_HOSTS'] = %(allowed)s): "
                    "the bot's bearer token would be sent there."
                )
                % {"host": host or url, "allowed": ", ".join(allowed)}
            }
        )


class Region(models.TextChoices):
    US = "us", _("US (us1.whatsapp.api.sinch.com)")
    EU = "eu", _("EU (eu1.whatsapp.api.sinch.com)")


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
    sinch_bot_id = models.CharField(
        _("Sinch bot id"), max_length=100, help_text=_("The bot identifier Sinch gave you, used in every API path.")
    )
    bearer_token = EncryptedSecretField(
        _("bearer token"), help_text=_("The bot's Sinch bearer token. Stored encrypted; never shown again.")
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
        _("active"), default=True, help_text=_("Inactive bots send nothing and refuse callbacks.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BotQuerySet.as_manager()

    class Meta:
        verbose_name = _("bot")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "sinch_bot_id"], name="sinch_whatsapp_bot_unique_per_tenant"),
        ]

    def __str__(self) -> str:
        where = self.region.upper()
        if self.base_url_override:
            from urllib.parse import urlsplit

            where += f" via {urlsplit(self.base_url_override).netloc}"
        return f"{self.name} ({self.sinch_bot_id}, {where})"

    def __repr__(self) -> str:
        return f"<Bot pk={self.pk} sinch_bot_id={self.sinch_bot_id!r} region={self.region!r}>"

    def clean(self) -> None:
        super().clean()
        validate_base_url_override(self.base_url_override)

    def needs_token_again(self, *, region: str, base_url_override: str) -> bool:
        """Changing where requests go needs the token typed again: it must not follow by itself."""
        if self.pk is None:
            return False
        return (region, base_url_override.rstrip("/")) != (self.region, self.base_url_override.rstrip("/"))

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


class OptInState(models.TextChoices):
    UNKNOWN = "unknown", _("unknown")
    OPTED_IN = "opted_in", _("opted in")
    OPTED_OUT = "opted_out", _("opted out")


class Capability(models.TextChoices):
    UNKNOWN = "unknown", _("unknown")
    CAPABLE = "capable", _("has WhatsApp")
    NOT_CAPABLE = "not_capable", _("no WhatsApp")


class Contact(models.Model):
    """A WhatsApp user as one bot knows them."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="contacts")
    number = models.CharField(_("number (E.164)"), max_length=40, help_text=_("E.164, e.g. +46732001122."))
    profile_name = models.CharField(_("profile name"), max_length=200, blank=True, default="")
    opt_in_state = models.CharField(max_length=16, choices=OptInState.choices, default=OptInState.UNKNOWN)
    opt_in_changed_at = models.DateTimeField(null=True, blank=True)
    opt_in_source = models.CharField(
        max_length=200, blank=True, default="", help_text=_("Who or what recorded the last opt-in/out.")
    )
    capability = models.CharField(max_length=16, choices=Capability.choices, default=Capability.UNKNOWN)
    capability_checked_at = models.DateTimeField(null=True, blank=True)
    last_inbound_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Last message from this contact: opens the 24-hour window.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact")
        ordering = ["-last_inbound_at", "number"]
        constraints = [models.UniqueConstraint(fields=["bot", "number"], name="sinch_whatsapp_contact_unique_number")]

    def __str__(self) -> str:
        return f"{self.profile_name} ({self.number})" if self.profile_name else self.number

    @property
    def window_ends_at(self) -> Any:
        return self.last_inbound_at + CUSTOMER_CARE_WINDOW if self.last_inbound_at else None

    @property
    def window_open(self) -> bool:
        end = self.window_ends_at
        return bool(end and end > timezone.now())


class MessageType(models.TextChoices):
    TEMPLATE = "template", _("template")
    TEXT = "text", _("text")
    IMAGE = "image", _("image")
    VIDEO = "video", _("video")
    DOCUMENT = "document", _("document")
    AUDIO = "audio", _("audio")
    LOCATION = "location", _("location")
    CONTACTS = "contacts", _("contacts")
    STICKER = "sticker", _("sticker")
    INTERACTIVE = "interactive", _("interactive")


class MessageState(models.TextChoices):
    # Ours, before Sinch answers.
    ACCEPTED = "accepted", _("accepted (recorded, not yet sent)")
    # whatsapp-callback.md, "Delivery report callback".
    QUEUED = "queued", _("queued")
    DISPATCHED = "dispatched", _("dispatched")
    SENT = "sent", _("sent")
    DELIVERED = "delivered", _("delivered")
    READ = "read", _("read")
    DELETED = "deleted", _("deleted")
    FAILED = "failed", _("failed")
    NO_OPT_IN = "no_opt_in", _("no opt-in")
    NO_CAPABILITY = "no_capability", _("no capability")
    # Ours, when Sinch refused the request or we cannot know what happened.
    ERROR = "error", _("error (refused by Sinch)")
    UNKNOWN = "unknown", _("unknown (request may have reached Sinch)")


#: Order of the forward path; a state never moves to a lower rank.
STATE_RANK: dict[str, int] = {
    MessageState.ACCEPTED: 0,
    # Our own outcomes: a later delivery report (reconciliation) may still settle them.
    MessageState.ERROR: 1,
    MessageState.UNKNOWN: 1,
    MessageState.QUEUED: 2,
    MessageState.DISPATCHED: 3,
    MessageState.SENT: 4,
    MessageState.DELIVERED: 5,
    MessageState.READ: 6,
    # Terminal: nothing moves them (deleted may follow any delivered state).
    MessageState.DELETED: 7,
    MessageState.FAILED: 8,
    MessageState.NO_OPT_IN: 8,
    MessageState.NO_CAPABILITY: 8,
}
TERMINAL_STATES = frozenset(
    {
        MessageState.DELETED,
        MessageState.FAILED,
        MessageState.NO_OPT_IN,
        MessageState.NO_CAPABILITY,
        MessageState.ERROR,
    }
)
#: States no delivery report can move (Sinch's terminal states).
LOCKED_STATES = TERMINAL_STATES - {MessageState.ERROR}
FINAL_STATES = TERMINAL_STATES | {MessageState.READ}


class OutboundMessageQuerySet(models.QuerySet["OutboundMessage"]):
    def for_tenant(self, tenant: Any) -> OutboundMessageQuerySet:
        return self.filter(bot__tenant=tenant)

    def unsettled(self) -> OutboundMessageQuerySet:
        return self.exclude(state__in=FINAL_STATES)


class OutboundMessage(models.Model):
    """One message to one recipient, recorded before any remote call."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="outbound_messages")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbound_messages"
    )
    recipient = models.CharField(max_length=64, help_text=_("As sent to Sinch: digits without '+', or a group id."))
    message_type = models.CharField(max_length=16, choices=MessageType.choices)
    payload = models.JSONField(help_text=_("The exact 'message' object sent to Sinch."))
    callback_url = models.CharField(max_length=500, blank=True, default="")
    batch_id = models.UUIDField(
        default=uuid.uuid4, db_index=True, help_text=_("Messages sent in one request share a batch id.")
    )
    sinch_message_id = models.CharField(max_length=100, null=True, blank=True)
    state = models.CharField(max_length=16, choices=MessageState.choices, default=MessageState.ACCEPTED)
    sinch_status = models.CharField(max_length=16, blank=True, default="", help_text=_("'success' or 'failure'."))
    state_details = models.TextField(blank=True, default="")
    error_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True, default="")
    error_details = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OutboundMessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("outbound message")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot", "sinch_message_id"],
                condition=models.Q(sinch_message_id__isnull=False),
                name="sinch_whatsapp_outbound_unique_sinch_id",
            )
        ]
        indexes = [
            models.Index(fields=["bot", "state", "created_at"], name="sinch_wa_out_state_idx"),
            models.Index(fields=["sinch_message_id"], name="sinch_wa_out_sinch_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_message_type_display()} to {self.recipient} ({self.state})"

    @property
    def error_hint(self) -> str:
        if self.error_status_code == 401:
            from ..exceptions import SinchUnauthorized

            return SinchUnauthorized.default_hint
        if self.state == MessageState.UNKNOWN:
            return "The request may have reached Sinch; a delivery report or reconciliation will settle it."
        return ""

    @property
    def error(self) -> dict[str, Any] | None:
        if self.error_status_code is None and not self.error_message:
            return None
        return {
            "status_code": self.error_status_code,
            "message": self.error_message,
            "details": self.error_details,
            "hint": self.error_hint,
        }


class StatusEvent(models.Model):
    """One delivery report as it arrived; the message's history."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="status_events")
    message = models.ForeignKey(
        OutboundMessage, on_delete=models.CASCADE, null=True, blank=True, related_name="status_events"
    )
    sinch_message_id = models.CharField(max_length=100)
    # Room for states Sinch may add later: they are kept as given, never dropped.
    state = models.CharField(max_length=40)
    status = models.CharField(max_length=16, blank=True, default="")
    details = models.TextField(blank=True, default="")
    recipient = models.CharField(max_length=64, blank=True, default="")
    occurred_at = models.DateTimeField(null=True, blank=True, help_text=_("Sinch's timestamp."))
    received_at = models.DateTimeField(default=timezone.now)
    callback = models.ForeignKey(
        "CallbackEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="status_events"
    )
    raw = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("status event")
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot", "sinch_message_id", "state"], name="sinch_whatsapp_status_unique_state"
            )
        ]
        indexes = [models.Index(fields=["bot", "sinch_message_id"], name="sinch_wa_status_msg_idx")]

    def __str__(self) -> str:
        return f"{self.sinch_message_id}: {self.state}"


class InboundMessage(models.Model):
    """A message a WhatsApp user sent to one of our bots."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="inbound_messages")
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages"
    )
    sinch_message_id = models.CharField(max_length=200)
    from_number = models.CharField(max_length=64, help_text=_("As Sinch sent it."))
    from_e164 = models.CharField(max_length=64, blank=True, default="")
    to = models.CharField(max_length=100, blank=True, default="")
    message_type = models.CharField(max_length=32)
    text = models.TextField(blank=True, default="", help_text=_("Body, caption or a readable summary."))
    content = models.JSONField(default=dict, help_text=_("The 'message' object as Sinch sent it."))
    replying_to_message_id = models.CharField(max_length=200, blank=True, default="")
    replying_to_from = models.CharField(max_length=64, blank=True, default="")
    forwarded = models.BooleanField(default=False)
    frequently_forwarded = models.BooleanField(default=False)
    referral = models.JSONField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, help_text=_("Sinch's timestamp."))
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True, help_text=_("When we marked it read at Sinch."))
    media_file = models.FileField(
        max_length=300,
        blank=True,
        default="",
        help_text=_("Downloaded copy of the media (Sinch's URL expires after 7 days)."),
    )
    media_size = models.PositiveBigIntegerField(null=True, blank=True)
    media_error = models.CharField(
        max_length=300, blank=True, default="", help_text=_("Why the media was not downloaded.")
    )
    callback = models.ForeignKey(
        "CallbackEvent", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_messages"
    )

    class Meta:
        verbose_name = _("inbound message")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "sinch_message_id"], name="sinch_whatsapp_inbound_unique_sinch_id")
        ]

    def __str__(self) -> str:
        preview = (self.text[:40] + "…") if len(self.text) > 40 else self.text
        return f"{self.message_type} from {self.from_e164 or self.from_number}: {preview}"


class SignatureVerdict(models.TextChoices):
    VALID = "valid", _("valid signature")
    UNSIGNED_ACCEPTED = "unsigned", _("unsigned (bot has no key)")


class ProcessingState(models.TextChoices):
    PENDING = "pending", _("pending")
    PROCESSED = "processed", _("processed")
    FAILED = "failed", _("failed")
    UNINTERPRETED = "uninterpreted", _("stored, not understood")


class CallbackEvent(models.Model):
    """A callback exactly as Sinch sent it, stored before processing."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="callback_events")
    body = models.BinaryField(help_text=_("The raw body bytes."))
    headers = models.JSONField(default=dict)
    payload = models.JSONField(null=True, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    signature_verdict = models.CharField(max_length=16, choices=SignatureVerdict.choices)
    verified_with = models.CharField(max_length=16, blank=True, default="", help_text=_("Which key verified it."))
    nonce = models.CharField(max_length=200, null=True, blank=True)
    processing_state = models.CharField(max_length=16, choices=ProcessingState.choices, default=ProcessingState.PENDING)
    processing_error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("callback event")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["bot", "nonce"],
                condition=models.Q(nonce__isnull=False),
                name="sinch_whatsapp_callback_unique_nonce",
            )
        ]
        indexes = [models.Index(fields=["processing_state", "received_at"], name="sinch_wa_cb_state_idx")]

    def __str__(self) -> str:
        return f"callback {self.received_at:%Y-%m-%d %H:%M:%S} ({self.processing_state})"

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")
