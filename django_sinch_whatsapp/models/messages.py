"""Outbound messages with their state history, and inbound messages."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .bots import Bot
from .contacts import Contact


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
    # No index of its own: the (bot, state, created_at) index and the others that start with bot serve it.
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="outbound_messages", db_index=False)
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
    send_id = models.UUIDField(
        null=True, blank=True, db_index=True, help_text=_("Messages of one send_message() call share a send id.")
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
    not_before = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "Deferred (messaging tier): not dispatched before this time. dispatch_due sends it then (and clears "
            "this); reconciliation too."
        ),
    )
    state_changed_at = models.DateTimeField(null=True, blank=True)
    absent_confirmed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_(
            "When reconciliation established that Sinch never took this 'unknown' message (its send answer was "
            "lost): from then on it may be retried."
        ),
    )
    retry_send_id = models.UUIDField(
        null=True,
        blank=True,
        help_text=_("The send that retried this message: a message is retried once (its rows share this send id)."),
    )
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
            # The messaging tier's count: a bot's templates dispatched in the last 24 hours.
            models.Index(fields=["bot", "message_type", "dispatched_at"], name="sinch_wa_out_tier_idx"),
            # dispatch_due's lookup of deferred rows whose time has come: only rows still deferred are in it
            # (dispatch_due clears not_before as it schedules them), so it stays small however large the table.
            models.Index(
                fields=["not_before"], condition=models.Q(not_before__isnull=False), name="sinch_wa_out_deferred_idx"
            ),
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

    # No index of its own: the unique constraint's (bot, sinch_message_id, state) index serves every
    # lookup by bot, and each index is one more write per delivery report (bench/RESULTS.md, "Session 5").
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="status_events", db_index=False)
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
