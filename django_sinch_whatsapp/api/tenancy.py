"""The one place that decides which tenants a request may act for."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from ..conf import app_settings
from ..exceptions import SinchConfigurationError


def tenant_ids_for_user(user: Any) -> list[Any]:
    if not getattr(user, "is_authenticated", False):
        return []
    resolver_path = app_settings.TENANT_RESOLVER
    if not resolver_path:
        if app_settings.TENANT_MODEL.lower() != settings.AUTH_USER_MODEL.lower():
            raise SinchConfigurationError(
                'SINCH_WHATSAPP["TENANT_RESOLVER"] must be set when TENANT_MODEL is not the user model.'
            )
        return [user.pk]
    tenants = import_string(resolver_path)(user)
    if isinstance(tenants, QuerySet):
        return list(tenants.values_list("pk", flat=True))
    return [getattr(t, "pk", t) for t in tenants]
