"""The admin's tenant scope: the API's resolver, applied to every page, action, filter and dropdown.

A staff user sees and acts on the objects of the tenants
``SINCH_WHATSAPP['TENANT_RESOLVER']`` gives them (the same
:func:`..api.tenancy.tenant_ids_for_user` the API calls); superusers see all.
Another tenant's object answers 404 on its change, delete and history pages,
never "does not exist, perhaps it was deleted" (which would redirect, and
differs from the answer for an id that never existed only by wording).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import ForeignKey, Model, QuerySet
from django.http import Http404, HttpRequest

from ..api.tenancy import tenant_ids_for_user
from ..conf import app_settings

_CACHE_ATTRIBUTE = "_sinch_whatsapp_tenant_ids"


def admin_tenant_ids(request: HttpRequest) -> list[Any] | None:
    """The tenant pks ``request.user`` may act for; None for a superuser (all). Resolved once per request."""
    user = request.user
    if getattr(user, "is_superuser", False) and getattr(user, "is_active", False):
        return None
    if not hasattr(request, _CACHE_ATTRIBUTE):
        setattr(request, _CACHE_ATTRIBUTE, tenant_ids_for_user(user))
    return list(getattr(request, _CACHE_ATTRIBUTE))


def tenant_model() -> type[Model]:
    from django.apps import apps

    return apps.get_model(app_settings.TENANT_MODEL)


def tenant_lookup_for(model: type[Model]) -> str:
    """The ORM path from ``model`` to its tenant's pk: ``tenant_id``, ``bot__tenant_id``, ``stickerpack__bot__...``."""
    from ..models import Bot

    if model is Bot:
        return "tenant_id"
    if issubclass(model, tenant_model()):
        return "pk"
    path: list[str] = []
    current = model
    for _ in range(4):
        hops = [
            field
            for field in current._meta.get_fields()
            if isinstance(field, ForeignKey) and field.remote_field.model is not current
        ]
        to_bot = [field for field in hops if field.remote_field.model is Bot]
        if to_bot:
            return "__".join([*path, to_bot[0].name, "tenant_id"])
        if len(hops) != 1:
            break
        path.append(hops[0].name)
        current = hops[0].remote_field.model
    raise ImproperlyConfigured(
        f"{model.__name__}: no path to a bot's tenant; set tenant_lookup on its admin to the ORM path of the tenant pk."
    )


def scope_queryset(request: HttpRequest, queryset: QuerySet[Any], lookup: str | None = None) -> QuerySet[Any]:
    """``queryset`` limited to the request user's tenants (unchanged for a superuser)."""
    tenant_ids = admin_tenant_ids(request)
    if tenant_ids is None:
        return queryset
    return queryset.filter(**{f"{lookup or tenant_lookup_for(queryset.model)}__in": tenant_ids})


def scope_related(request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """A dropdown's or filter's choices: scoped when they are our tenant-owned objects or the tenants themselves."""
    try:
        lookup = tenant_lookup_for(queryset.model)
    except ImproperlyConfigured:
        return queryset
    return scope_queryset(request, queryset, lookup)


class TenantScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A list filter over a relation that offers only the request user's objects (bots, tenants)."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        allowed = scope_related(request, field.related_model._default_manager.all())
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False, ordering=ordering, limit_choices_to={"pk__in": allowed.values("pk")}
        )


class TenantScopedAdminMixin:
    """Put first in the bases of every model admin of tenant-owned objects.

    ``get_queryset`` (changelists, change/delete/history pages, actions and the
    autocomplete of relations to this model) goes through the tenant scope;
    foreign-key dropdowns and relation list filters offer only in-scope
    choices; an out-of-scope or unknown object id answers 404.
    ``tenant_lookup`` names the ORM path to the tenant pk when it cannot be
    found from the model (a path through foreign keys to ``Bot``).
    """

    tenant_lookup: str | None = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return scope_queryset(request, queryset, self.tenant_lookup)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if obj is None:
            raise Http404("No such object.")
        return obj

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope_related(request, formfield.queryset)
        return formfield

    def get_list_filter(self, request: HttpRequest) -> Any:
        filters = []
        for entry in super().get_list_filter(request):  # type: ignore[misc]
            if isinstance(entry, str) and self._is_relation(entry):
                entry = (entry, TenantScopedRelatedFieldListFilter)
            filters.append(entry)
        return filters

    def _is_relation(self, name: str) -> bool:
        model: type[Model] = self.model  # type: ignore[attr-defined]
        try:
            field = model._meta.get_field(name)
        except Exception:  # a lookup path ("bot__region"): not a relation filter of ours
            return False
        return bool(getattr(field, "is_relation", False) and getattr(field, "many_to_one", False))
