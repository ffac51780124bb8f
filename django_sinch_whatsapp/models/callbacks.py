"""Callbacks exactly as Sinch sent them, stored before processing."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .bots import Bot


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
