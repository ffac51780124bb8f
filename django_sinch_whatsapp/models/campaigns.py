"""Template campaigns read from a CSV: one row per line, so a re-run resumes where the last one stopped."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .bots import Bot


class Campaign(models.Model):
    """One template sent to the numbers of one CSV file, with its progress.

    ``lines_read`` is the last CSV line whose row is stored: an import that
    stopped (a crash, a SIGKILL) resumes after it. The counters are kept in the
    same transaction as the rows they count, so they are exact at any moment.
    """

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="campaigns", help_text=_("The sending bot."))
    name = models.CharField(max_length=200, blank=True, help_text=_("A name people recognise (default: the file)."))
    template_name = models.CharField(max_length=512, help_text=_("The approved template's name."))
    language = models.CharField(max_length=20, default="en", help_text=_("The template's language code."))
    number_column = models.CharField(
        max_length=200, default="number", help_text=_("The CSV column that holds the phone number.")
    )
    param_columns = models.JSONField(
        default=list, blank=True, help_text=_("The CSV columns whose values are the body parameters, in order.")
    )
    lines_read = models.PositiveIntegerField(default=0, help_text=_("The last CSV line stored (the resume point)."))
    accepted = models.PositiveIntegerField(default=0, help_text=_("Rows that passed validation."))
    rejected = models.PositiveIntegerField(default=0, help_text=_("Rows refused before any request."))
    imported_at = models.DateTimeField(null=True, blank=True, help_text=_("When the whole file was read."))
    finished_at = models.DateTimeField(null=True, blank=True, help_text=_("When every accepted row was sent."))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Campaign {self.pk}: {self.name or self.template_name} ({self.accepted} accepted, {self.rejected} rejected)"


class CampaignRowState(models.TextChoices):
    REJECTED = "rejected", _("rejected (not sent)")
    ACCEPTED = "accepted", _("accepted (valid, not yet sent)")
    # An idempotency key is committed on the row before its request: a re-run replays it, never sends twice.
    QUEUED = "queued", _("queued (being sent)")
    SENT = "sent", _("handed to Sinch (see its message)")


class CampaignRow(models.Model):
    """One CSV line of a campaign: the number and parameters it gave, or why it was refused.

    Unique per (campaign, line), and per (campaign, number) among valid rows, so
    a re-run never stores a line twice and a number is messaged once. ``send_id``
    names the ``OutboundMessage`` rows of its send (``recipient`` = ``number``).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(help_text=_("The CSV line the row starts on (the header is line 1)."))
    number = models.CharField(max_length=32, null=True, blank=True, help_text=_("Sinch's form, when valid."))
    raw_number = models.CharField(max_length=64, blank=True, help_text=_("The number as the file gave it."))
    params = models.JSONField(default=list, blank=True, help_text=_("The body parameters of this row."))
    state = models.CharField(max_length=16, choices=CampaignRowState.choices, default=CampaignRowState.ACCEPTED)
    reason = models.TextField(blank=True, help_text=_("Why the row was rejected."))
    send_key = models.CharField(max_length=64, blank=True, help_text=_("The idempotency key of its send."))
    send_id = models.UUIDField(null=True, blank=True, help_text=_("Its send's rows: OutboundMessage.send_id."))

    class Meta:
        verbose_name = _("campaign row")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "line"], name="sinch_whatsapp_campaign_row_line"),
            models.UniqueConstraint(
                fields=["campaign", "number"],
                condition=models.Q(number__isnull=False),
                name="sinch_whatsapp_campaign_row_number",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "state", "line"], name="sinch_wa_campaign_row_state")]

    def __str__(self) -> str:
        return f"line {self.line}: {self.raw_number} ({self.get_state_display()})"
