"""Replying to a contact: a text inside the 24-hour window, a template outside it; the form says which and why.

whatsapp-message.md: session messages (text, media ...) need a message from
the contact in the last 24 hours; outside that window only a template may be
sent. The form offers what is allowed now and names the time the window
closes or closed (``Contact.window_ends_at``); ``services.send_message``
enforces the same rule whatever the form offered.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from ...models import Contact, InboundMessage
from .base import render, require_send_permission, scoped_object
from .forms import KINDS, MessageForm
from .send import send_from_form


def window_explanation(contact: Contact) -> str:
    """Which message kinds may be sent to ``contact`` now, and why, in one sentence."""
    end = contact.window_ends_at
    if end is None:
        return "Template only: this contact has never written to the bot, so no 24-hour window is open."
    if contact.window_open:
        return (
            f"Text or media: the 24-hour window is open until {end:%Y-%m-%d %H:%M:%S} UTC "
            "(the contact wrote in the last 24 hours)."
        )
    return (
        f"Template only: the 24-hour window closed at {end:%Y-%m-%d %H:%M:%S} UTC "
        "(no message from the contact in the last 24 hours)."
    )


def reply_form(contact: Contact, data: Any = None) -> MessageForm:
    """The message form with only the kinds allowed now; text first inside the window."""
    if contact.window_open:
        form = MessageForm(data, initial={"kind": "text"})
    else:
        form = MessageForm(data, initial={"kind": "template"})
        kind_field: Any = form.fields["kind"]
        kind_field.choices = [choice for choice in KINDS if choice[0] == "template"]
    return form


def handle_reply(model_admin: Any, request: HttpRequest, contact: Contact) -> tuple[MessageForm, HttpResponse | None]:
    """A POSTed reply: the redirect to the inbox when it was sent, else the form with the reasons on it."""
    require_send_permission(request)
    form = reply_form(contact, request.POST)
    if not contact.bot.is_active:
        form.full_clean()
        form.add_error(None, "This bot is inactive; activate it to send.")
        return form, None
    if form.is_valid():
        outcome = send_from_form(model_admin, request, form, contact.bot, [contact.number])
        if outcome is not None:
            return form, HttpResponseRedirect(reverse("admin:sinch_whatsapp_contact_inbox", args=[contact.pk]))
    return form, None


def inbound_reply_view(model_admin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    """Reply to the sender of one inbound message; the page quotes the message."""
    message: InboundMessage = scoped_object(model_admin, request, object_id)
    contact = message.contact
    if contact is None:
        return render(
            model_admin,
            request,
            "reply.html",
            {"title": "Reply", "inbound": message, "contact": None, "original": message},
        )
    form = reply_form(contact)
    if request.method == "POST":
        form, response = handle_reply(model_admin, request, contact)
        if response is not None:
            return response
    return render(
        model_admin,
        request,
        "reply.html",
        {
            "title": f"Reply to {contact}",
            "inbound": message,
            "contact": contact,
            "original": message,
            "form": form,
            "window": window_explanation(contact),
            "window_open": contact.window_open,
        },
    )
