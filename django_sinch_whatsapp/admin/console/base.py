"""What every console page shares: the admin's frame, the tenant-scoped object, the send permission.

Every page fetches its object through the model admin's ``get_object`` (the
tenant scope: another tenant's id answers 404, as on the change page) and
checks the admin's view permission; sending needs
``sinch_whatsapp.add_outboundmessage`` as well (a person who may create
outbound messages).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse

from ...exceptions import SinchAPIError
from ...models import OutboundMessage
from ...services import SendOutcome
from ..common import sinch_error_text

TEMPLATE_DIR = "admin/django_sinch_whatsapp"
SEND_PERMISSION = f"{OutboundMessage._meta.app_label}.add_{OutboundMessage._meta.model_name}"


def may_send(request: HttpRequest) -> bool:
    return bool(request.user.has_perm(SEND_PERMISSION))


def require_send_permission(request: HttpRequest) -> None:
    if not may_send(request):
        raise PermissionDenied("Sending needs the 'add outbound message' permission.")


def scoped_object(model_admin: Any, request: HttpRequest, object_id: str) -> Any:
    """The object through the admin's tenant-scoped queryset (404 otherwise), if the user may view it."""
    obj = model_admin.get_object(request, object_id)  # TenantScopedAdminMixin: 404 when out of scope
    if not model_admin.has_view_or_change_permission(request, obj):
        raise PermissionDenied
    return obj


def render(model_admin: Any, request: HttpRequest, template: str, context: dict[str, Any]) -> TemplateResponse:
    """A console page inside the admin's frame (header, breadcrumbs, sidebar)."""
    opts = model_admin.model._meta
    base = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "app_label": opts.app_label,
        "has_view_permission": True,
        "may_send": may_send(request),
    }
    base.update(context)
    return TemplateResponse(request, f"{TEMPLATE_DIR}/{template}", base)


def sinch_errors(outcome: SendOutcome) -> list[str]:
    """Sinch's refusals of a send, each as :func:`..common.sinch_error_text` words."""
    return [sinch_error_text(err) if isinstance(err, SinchAPIError) else str(err) for err in outcome.errors]


def report_outcome(model_admin: Any, request: HttpRequest, outcome: SendOutcome) -> None:
    """One success line (counts) plus one warning per kind of refusal."""
    if outcome.replayed:
        model_admin.message_user(request, "Already sent: this request was made before; nothing was sent again.")
        return
    if outcome.sent:
        model_admin.message_user(
            request, f"Sinch accepted {outcome.sent} of {outcome.accepted} message(s).", messages.SUCCESS
        )
    elif outcome.accepted and not outcome.errors:
        model_admin.message_user(request, f"Recorded {outcome.accepted} message(s); they are being sent.")
    for rejected in outcome.rejected:
        model_admin.message_user(request, f"{rejected.raw}: {rejected.reason}", messages.WARNING)
    if outcome.rejected_count > len(outcome.rejected):
        more = outcome.rejected_count - len(outcome.rejected)
        model_admin.message_user(request, f"… and {more} more refused number(s).", messages.WARNING)
