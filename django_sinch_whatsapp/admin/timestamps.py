"""Timestamps to the second in every list and read-only field.

Django shows a datetime in the locale's ``DATETIME_FORMAT`` ("Dec. 2, 2026,
3:45 a.m."), so five delivery reports of one minute all read the same. This
mixin swaps each read-only or listed ``DateTimeField`` for a column that shows
``2026-12-02 03:45:07 UTC`` (the admin's current time zone) and still sorts by
the field. Editable datetime inputs are left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest
from django.utils import timezone

SUFFIX = "_to_the_second"
STYLESHEET = "django_sinch_whatsapp/admin.css"


def to_the_second(value: datetime | None) -> str:
    if value is None:
        return "-"
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or ''}".rstrip()


def _column(field: models.DateTimeField) -> Callable[[Any, Any], str]:
    name = field.name

    @admin.display(description=field.verbose_name, ordering=name)
    def column(model_admin: Any, obj: Any) -> str:
        return to_the_second(getattr(obj, name))

    return column


def swap_names(model_admin: Any, names: Sequence[Any], only: Sequence[str] | None = None) -> list[Any]:
    """``names`` with each datetime field of ``model_admin``'s model (among ``only``) replaced by its column."""
    model: type[models.Model] = model_admin.model
    swapped: list[Any] = []
    for name in names:
        if isinstance(name, (list, tuple)):
            swapped.append(type(name)(swap_names(model_admin, [part], only)[0] for part in name))
            continue
        if not isinstance(name, str) or (only is not None and name not in only):
            swapped.append(name)
            continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            swapped.append(name)
            continue
        if not isinstance(field, models.DateTimeField):
            swapped.append(name)
            continue
        attribute = f"{name}{SUFFIX}"
        if not hasattr(type(model_admin), attribute):
            setattr(type(model_admin), attribute, _column(field))
        swapped.append(attribute)
    return swapped


def _swap_fieldsets(model_admin: Any, fieldsets: Sequence[Any], readonly: Sequence[str]) -> list[Any]:
    result = []
    for title, options in fieldsets:
        options = dict(options)
        options["fields"] = swap_names(model_admin, options.get("fields", ()), readonly)
        result.append((title, options))
    return result


class TimestampsToTheSecondMixin:
    """Put before ``admin.ModelAdmin`` in the bases: its list, its change page and that page's inlines.

    It also adds the console's stylesheet, which keeps the lists within 1400 px.

    The form is built from the admin's own field names (so a read-only datetime
    stays out of it); only what is rendered is swapped, in ``render_change_form``.
    """

    @property
    def media(self) -> forms.Media:
        # The lists' stylesheet (served from the package's static files): wrapping headers and
        # cells so a list fits 1400 px, next to the timestamps that make it wide.
        return super().media + forms.Media(css={"all": [STYLESHEET]})  # type: ignore[misc]

    def get_list_display(self, request: HttpRequest) -> Any:
        return swap_names(self, super().get_list_display(request))  # type: ignore[misc]

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        adminform = context.get("adminform")
        if adminform is not None:
            readonly = list(adminform.readonly_fields)
            adminform.fieldsets = _swap_fieldsets(self, adminform.fieldsets, readonly)
            adminform.readonly_fields = swap_names(self, readonly)
        for formset in context.get("inline_admin_formsets", ()):
            readonly = list(formset.readonly_fields)
            formset.fieldsets = _swap_fieldsets(formset.opts, formset.fieldsets, readonly)
            formset.readonly_fields = swap_names(formset.opts, readonly)
        return super().render_change_form(request, context, *args, **kwargs)  # type: ignore[misc]
