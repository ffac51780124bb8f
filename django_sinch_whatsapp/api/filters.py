"""The list filters of the API, through django-filter: validated, so a bad value is a 400 naming it.

Numbers are matched as E.164 whatever way they are written (``46732001122``, ``+46 73-200 11 22``,
``0732001122`` in the bot's default region): national numbers are read in the default region of the
``?bot=`` given, else ``SINCH_WHATSAPP["DEFAULT_REGION"]``.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError

from ..models import Bot, Contact, InboundMessage, MessageState, MessageType, OptInState, OutboundMessage
from ..phone import InvalidPhoneNumber, to_e164
from ..services.recipients import default_region_for
from .tenancy import tenant_ids_for_user

#: Primary keys are 64-bit signed integers; a larger number must not reach the database driver.
MAX_ID = 2**63 - 1
WHOLE_NUMBER = {"invalid": "must be a whole number", "max_value": "must be a whole number"}
WHOLE_NUMBER["min_value"] = WHOLE_NUMBER["max_value"]


class IdFilter(django_filters.Filter):
    """An exact match on a whole number (drf-spectacular documents it as an integer)."""

    field_class = forms.IntegerField


def id_filter(field_name: str, help_text: str) -> django_filters.Filter:
    """An id that fits a primary key, or a 400 naming the parameter (SQLite overflows, PostgreSQL refuses)."""
    return IdFilter(
        field_name=field_name,
        min_value=-MAX_ID - 1,
        max_value=MAX_ID,
        error_messages=WHOLE_NUMBER,
        help_text=help_text,
    )


class NumberMatching(django_filters.FilterSet):
    """A FilterSet whose number filters read numbers in the ``?bot=`` bot's default region."""

    bot = id_filter("bot_id", "Only this bot's (its id).")

    def e164(self, name: str, value: str) -> str:
        bot_id = self.form.cleaned_data.get("bot")
        bot = None
        if bot_id is not None:  # only the caller's own bot lends its region
            tenants = tenant_ids_for_user(getattr(self.request, "user", None))
            bot = Bot.objects.filter(pk=bot_id, tenant_id__in=tenants).first()
        try:
            return to_e164(value, default_region_for(bot))
        except InvalidPhoneNumber as err:
            raise ValidationError({name: [err.reason]}) from None


class OutboundMessageFilter(NumberMatching):
    state = django_filters.ChoiceFilter(choices=MessageState.choices, help_text="Only this state.")
    type = django_filters.ChoiceFilter(
        field_name="message_type", choices=MessageType.choices, help_text="Only this message type."
    )
    recipient = django_filters.CharFilter(method="filter_recipient", help_text="Only to this number (any format).")
    contact = id_filter("contact_id", "Only to this contact (its id).")
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601)."
    )

    class Meta:
        model = OutboundMessage
        fields: list[str] = []

    def filter_recipient(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # models/messages.py: recipient is as sent to Sinch, digits without '+'.
        return queryset.filter(recipient=self.e164(name, value).removeprefix("+"))


class ContactFilter(NumberMatching):
    number = django_filters.CharFilter(method="filter_number", help_text="Only this number (any format).")
    opt_in_state = django_filters.ChoiceFilter(choices=OptInState.choices, help_text="Only this opt-in state.")

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_number(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(number=self.e164(name, value))


class InboundMessageFilter(NumberMatching):
    contact = id_filter("contact_id", "Only from this contact (its id).")
    type = django_filters.CharFilter(
        field_name="message_type", help_text="Only this message type (text, image, location, ...)."
    )
    sender = django_filters.CharFilter(method="filter_sender", help_text="Only from this number (any format).")
    received_after = django_filters.IsoDateTimeFilter(
        field_name="received_at", lookup_expr="gte", help_text="Received at or after (ISO 8601)."
    )
    received_before = django_filters.IsoDateTimeFilter(
        field_name="received_at", lookup_expr="lt", help_text="Received before (ISO 8601)."
    )

    class Meta:
        model = InboundMessage
        fields: list[str] = []

    def filter_sender(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(from_e164=self.e164(name, value))
