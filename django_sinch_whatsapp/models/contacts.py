"""Contacts: WhatsApp users as one bot knows them (opt-in, capability, the 24-hour window)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .bots import Bot

#: whatsapp-message.md: a customer care session lasts 24 hours after the last inbound message.
CUSTOMER_CARE_WINDOW = timedelta(hours=24)


class OptInState(models.TextChoices):
    UNKNOWN = "unknown", _("unknown")
    OPTED_IN = "opted_in", _("opted in")
    OPTED_OUT = "opted_out", _("opted out")


class Capability(models.TextChoices):
    UNKNOWN = "unknown", _("unknown")
    CAPABLE = "capable", _("has WhatsApp")
    NOT_CAPABLE = "not_capable", _("no WhatsApp")
    #: Asked, answer not in yet: the Conversation API answers a lookup later, by callback.
    PENDING = "pending", _("lookup pending")


class Contact(models.Model):
    """A WhatsApp user as one bot knows them."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="contacts")
    number = models.CharField(_("number (E.164)"), max_length=40, help_text=_("E.164, e.g. +46732001122."))
    profile_name = models.CharField(_("profile name"), max_length=200, blank=True, default="")
    opt_in_state = models.CharField(_("opt-in"), max_length=16, choices=OptInState.choices, default=OptInState.UNKNOWN)
    opt_in_changed_at = models.DateTimeField(_("opt-in changed at"), null=True, blank=True)
    opt_in_source = models.CharField(
        _("opt-in recorded by"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("Who or what recorded the last opt-in/out."),
    )
    capability = models.CharField(_("WhatsApp"), max_length=16, choices=Capability.choices, default=Capability.UNKNOWN)
    capability_checked_at = models.DateTimeField(
        _("WhatsApp checked at"), null=True, blank=True, help_text=_("When the last capability answer was recorded.")
    )
    capability_requested_at = models.DateTimeField(
        _("WhatsApp lookup asked at"),
        null=True,
        blank=True,
        help_text=_(
            "When a capability lookup was last asked. On the Conversation API the answer comes later by "
            "callback; until then the capability is 'lookup pending'."
        ),
    )
    last_inbound_at = models.DateTimeField(
        _("last message from the contact"),
        null=True,
        blank=True,
        help_text=_("Last message from this contact: opens the 24-hour window."),
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
