"""A bot's "send a message" page: numbers, then a text, template or media message, through ``send_message``.

What the builders refuse is shown on the field it concerns; what Sinch refuses
is shown on the form in Sinch's own words (:func:`..common.sinch_error_text`).
The page refuses an inactive bot before anything is recorded (so does
``services.send_message``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from ... import services
from ...exceptions import MessageValidationError, OutsideCustomerCareWindow, SinchWhatsAppError
from ...models import Bot, Contact
from ...services import SendOutcome
from ...services.sending import WINDOW_CLOSED_REASON
from .base import render, report_outcome, require_send_permission, scoped_object, sinch_errors
from .forms import MessageForm, SendForm, show_validation_error


def send_from_form(
    model_admin: Any, request: HttpRequest, form: MessageForm, bot: Bot, numbers: list[str]
) -> SendOutcome | None:
    """Send ``form``'s message; on any refusal put the reason on the form and return None.

    A send whose every batch Sinch refused returns None too (the rows are
    recorded, in state ``error``, and can be retried); a partly refused send
    returns its outcome and the refusals are shown as messages.
    """
    try:
        outcome = services.send_message(bot, numbers, form.message())
    except MessageValidationError as err:
        show_validation_error(form, err)
        return None
    except OutsideCustomerCareWindow:
        form.add_error("kind", f"Not sent: {WINDOW_CLOSED_REASON}. Send a template instead.")
        return None
    except SinchWhatsAppError as err:  # a secret that cannot be decrypted, a bad setting: never a 500
        form.add_error(None, str(err))
        return None
    errors = sinch_errors(outcome)
    if not outcome.accepted and outcome.rejected:
        for rejected in outcome.rejected:
            form.add_error("numbers" if "numbers" in form.fields else None, f"{rejected.raw}: {rejected.reason}")
        return None
    if errors and not outcome.sent:
        for text in errors:
            form.add_error(None, text)
        return None
    report_outcome(model_admin, request, outcome)
    for text in errors:
        model_admin.message_user(request, text, "error")
    return outcome


def after_send_url(bot: Bot, outcome: SendOutcome, numbers: list[str]) -> str:
    """The inbox when one contact was written to, else the list of this send's rows."""
    rows = outcome.kept_rows or []
    if len(rows) == 1 and rows[0].contact_id is not None:
        return reverse("admin:sinch_whatsapp_contact_inbox", args=[rows[0].contact_id])
    return reverse("admin:sinch_whatsapp_outboundmessage_changelist") + f"?send_id={outcome.send_id}"


@sensitive_variables()
def bot_send_view(model_admin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    bot: Bot = scoped_object(model_admin, request, object_id)
    require_send_permission(request)
    form: forms.Form
    if request.method == "POST":
        form = SendForm(request.POST)
        if not bot.is_active:
            form.full_clean()
            form.add_error(None, "This bot is inactive; activate it to send.")
        elif form.is_valid():
            numbers = form.recipients()
            outcome = send_from_form(model_admin, request, form, bot, numbers)
            if outcome is not None:
                return HttpResponseRedirect(after_send_url(bot, outcome, numbers))
    else:
        initial = {}
        contact_id = request.GET.get("contact")
        if contact_id and contact_id.isdigit():
            contact = Contact.objects.filter(bot=bot, pk=contact_id).first()
            if contact is not None:
                initial["numbers"] = contact.number
        form = SendForm(initial=initial)
    return render(
        model_admin,
        request,
        "send.html",
        {"title": f"Send a message from {bot.name}", "bot": bot, "original": bot, "form": form},
    )
