"""Callbacks exactly as Sinch sent them, and a bounded record of the ones refused."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .bots import Bot

#: Room for the nonce as shown to people; the full nonce is kept in ``headers`` and as a digest.
NONCE_SHOWN_CHARS = 200


class SignatureVerdict(models.TextChoices):
    VALID = "valid", _("valid signature")
    UNSIGNED_ACCEPTED = "unsigned", _("unsigned (bot has no key)")


class ProcessingState(models.TextChoices):
    PENDING = "pending", _("pending")
    PROCESSED = "processed", _("processed")
    FAILED = "failed", _("failed")
    UNINTERPRETED = "uninterpreted", _("stored, not understood")


class CallbackEvent(models.Model):
    """A callback exactly as Sinch sent it (``body``), stored in the transaction that applies it.

    Replays are refused by a unique constraint on (signing key fingerprint,
    nonce digest, body digest): nonces are unique per signing key, not per
    bot, so a callback signed for one bot and posted to another bot that
    shares the key is a replay. The same nonce with another body is stored and
    flagged (``nonce_reused``), never dropped.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="callback_events")
    body = models.BinaryField(help_text=_("The raw body bytes, exactly as received."))
    headers = models.JSONField(default=dict)
    payload = models.JSONField(
        null=True,
        blank=True,
        help_text=_(
            "The body as JSON, with values PostgreSQL cannot store replaced (see anomalies); null if unreadable."
        ),
    )
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    signature_verdict = models.CharField(max_length=16, choices=SignatureVerdict.choices)
    verified_with = models.CharField(max_length=16, blank=True, default="", help_text=_("Which key verified it."))
    key_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text=_("A keyed digest of the signing key that verified it (never the key): nonces are unique per key."),
    )
    nonce = models.CharField(max_length=NONCE_SHOWN_CHARS, null=True, blank=True)
    nonce_digest = models.CharField(max_length=64, null=True, blank=True, help_text=_("SHA-256 of the full nonce."))
    body_digest = models.CharField(max_length=64, blank=True, default="", help_text=_("SHA-256 of the raw body."))
    nonce_reused = models.BooleanField(
        default=False, help_text=_("Another callback with this nonce and signing key had a different body.")
    )
    anomalies = models.JSONField(
        default=list, blank=True, help_text=_("What could not be stored or read as sent (the raw body has it).")
    )
    processing_state = models.CharField(max_length=16, choices=ProcessingState.choices, default=ProcessingState.PENDING)
    processing_error = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("callback event")
        ordering = ["-received_at"]
        constraints = [
            # A replay: same key, same nonce, same body.
            models.UniqueConstraint(
                fields=["key_fingerprint", "nonce_digest", "body_digest"],
                condition=models.Q(nonce_digest__isnull=False),
                name="sinch_whatsapp_callback_unique_replay",
            ),
            # The first callback per key and nonce; later bodies with that nonce are flagged.
            models.UniqueConstraint(
                fields=["key_fingerprint", "nonce_digest"],
                condition=models.Q(nonce_digest__isnull=False, nonce_reused=False),
                name="sinch_whatsapp_callback_unique_nonce_per_key",
            ),
        ]
        indexes = [models.Index(fields=["processing_state", "received_at"], name="sinch_wa_cb_state_idx")]

    def __str__(self) -> str:
        return f"callback {self.received_at:%Y-%m-%d %H:%M:%S} ({self.processing_state})"

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")


class CallbackRefusalStats(models.Model):
    """Callbacks refused for one bot (bad signature, too large, not JSON...): a count, never the bodies.

    One row per bot, written at most once per second per bot and process
    (:mod:`..callbacks.refusals`), so a flood of forged callbacks cannot turn
    it into a write amplifier. ``count`` may lag by the refusals of the last second.
    """

    bot = models.OneToOneField(Bot, on_delete=models.CASCADE, primary_key=True, related_name="callback_refusals")
    count = models.PositiveBigIntegerField(default=0)
    first_at = models.DateTimeField(default=timezone.now)
    last_at = models.DateTimeField(default=timezone.now)
    last_reason = models.CharField(max_length=200, blank=True, default="")
    last_remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("callback refusal record")

    def __str__(self) -> str:
        return f"{self.count} refused callback(s), last {self.last_at:%Y-%m-%d %H:%M:%S}: {self.last_reason}"
