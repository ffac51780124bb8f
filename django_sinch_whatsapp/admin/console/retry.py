"""An outbound message's "retry" page: a confirmation, then :func:`...services.retry.retry_message`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from ...exceptions import MessageValidationError, OutsideCustomerCareWindow, SinchWhatsAppError
from ...models import OutboundMessage
from ...services.retry import RetryRefused, check_retryable, retry_message
from .base import render, report_outcome, require_send_permission, scoped_object, sinch_errors


def retry_view(model_admin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    message: OutboundMessage = scoped_object(model_admin, request, object_id)
    require_send_permission(request)
    change_url = reverse("admin:sinch_whatsapp_outboundmessage_change", args=[message.pk])
    refusal = ""
    try:
        check_retryable(message)
    except RetryRefused as err:
        refusal = str(err)
    if request.method == "POST" and not refusal:
        try:
            outcome = retry_message(message)
        except (RetryRefused, MessageValidationError, OutsideCustomerCareWindow, SinchWhatsAppError) as err:
            model_admin.message_user(request, f"Not retried: {err}", messages.ERROR)
            return HttpResponseRedirect(change_url)
        report_outcome(model_admin, request, outcome)
        for text in sinch_errors(outcome):
            model_admin.message_user(request, text, messages.ERROR)
        return HttpResponseRedirect(
            reverse("admin:sinch_whatsapp_outboundmessage_changelist") + f"?send_id={outcome.send_id}"
        )
    return render(
        model_admin,
        request,
        "retry.html",
        {"title": "Retry this message?", "message": message, "original": message, "refusal": refusal},
    )
