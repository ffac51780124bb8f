"""A contact's inbox: the conversation in order, the 24-hour window and the reply box.

The last ``PAGE`` messages each way are read (two queries, newest first),
merged by time and cut to ``PAGE``; the messages they reply to are read in two
more queries. So the page costs the same queries at 10 messages as at a million.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.safestring import SafeString

from ...models import Contact, InboundMessage, OutboundMessage
from .base import render, scoped_object
from .content import inbound_html, outbound_html
from .reply import handle_reply, reply_form, window_explanation

#: Messages shown: the most recent, whichever direction.
PAGE = 50


@dataclass
class Entry:
    """One line of the conversation."""

    direction: str  # "in" or "out"
    at: datetime
    message: InboundMessage | OutboundMessage
    html: SafeString
    quoted: SafeString | None = None


def _quote_map(bot_id: Any, inbound: list[InboundMessage]) -> dict[str, SafeString]:
    """The messages these inbound messages reply to (ours or theirs), by Sinch id: two queries at most."""
    ids = {m.replying_to_message_id for m in inbound if m.replying_to_message_id}
    if not ids:
        return {}
    quoted: dict[str, SafeString] = {}
    for out in OutboundMessage.objects.filter(bot_id=bot_id, sinch_message_id__in=ids).only(
        "sinch_message_id", "message_type", "payload"
    ):
        quoted[out.sinch_message_id or ""] = outbound_html(out.message_type, out.payload)
    for old in InboundMessage.objects.filter(bot_id=bot_id, sinch_message_id__in=ids).only(
        "sinch_message_id", "message_type", "content", "text"
    ):
        quoted[old.sinch_message_id] = inbound_html(old.message_type, old.content, old.text)
    return quoted


def conversation(contact: Contact, limit: int = PAGE) -> list[Entry]:
    """The last ``limit`` messages with ``contact``, oldest first."""
    inbound = list(
        InboundMessage.objects.filter(contact=contact).order_by("-received_at", "-id").defer("referral")[:limit]
    )
    outbound = list(OutboundMessage.objects.filter(contact=contact).order_by("-created_at")[:limit])
    quotes = _quote_map(contact.bot_id, inbound)
    entries = [
        Entry(
            "in",
            m.received_at,
            m,
            inbound_html(m.message_type, m.content, m.text, m.media_file.url if m.media_file else ""),
            quotes.get(m.replying_to_message_id) if m.replying_to_message_id else None,
        )
        for m in inbound
    ]
    entries += [Entry("out", m.created_at, m, outbound_html(m.message_type, m.payload)) for m in outbound]
    entries.sort(key=lambda entry: entry.at)
    return entries[-limit:]


def contact_inbox_view(model_admin: Any, request: HttpRequest, object_id: str) -> HttpResponse:
    contact: Contact = scoped_object(model_admin, request, object_id)
    form = reply_form(contact)
    if request.method == "POST":
        form, response = handle_reply(model_admin, request, contact)
        if response is not None:
            return response
    entries = conversation(contact)
    for entry in entries:
        if entry.direction == "in" and entry.message.replying_to_message_id and entry.quoted is None:  # type: ignore[union-attr]
            entry.quoted = SafeString("(a message not in this conversation)")
    return render(
        model_admin,
        request,
        "inbox.html",
        {
            "title": f"Conversation with {contact}",
            "contact": contact,
            "original": contact,
            "bot": contact.bot,
            "entries": entries,
            "page_size": PAGE,
            "form": form,
            "window": window_explanation(contact),
            "window_open": contact.window_open,
        },
    )
