"""Idempotency keys of sends: a retried request returns the first answer and sends nothing."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` a tenant used for a send, with what the first request did.

    The row is written in the same transaction as the send's rows, so the unique
    constraint on (scope, key) decides between concurrent repeats: the key exists
    exactly when the rows do. ``send_id`` names those rows
    (``OutboundMessage.send_id``); ``response_status``/``response_body`` hold the
    API's first answer once it was given.
    """

    scope = models.CharField(max_length=100, help_text=_("Whose key: 'tenant:<pk>' (keys are per tenant)."))
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64, help_text=_("SHA-256 of the canonical request."))
    send_id = models.UUIDField(help_text=_("The send's rows: OutboundMessage.send_id."))
    # A real relation: the admin's and the API's tenant scope reach every row through its bot.
    bot = models.ForeignKey(
        "Bot",
        on_delete=models.CASCADE,
        related_name="idempotency_keys",
        help_text=_("The bot the first request sent from."),
    )
    completed_at = models.DateTimeField(null=True, blank=True, help_text=_("When the send was done (dispatched)."))
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="sinch_whatsapp_idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.scope}: {self.key}"
