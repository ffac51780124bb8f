"""A message's content as a person reads it: text, media (a thumbnail for images), location, cards, replies.

Inbound content is the ``message`` object of whatsapp-callback.md; outbound
content is the ``message`` object we sent (whatsapp-message.md). Everything is
escaped (``format_html``); URLs are shown only when they are http(s).
"""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

MEDIA_TYPES = ("image", "video", "document", "audio", "sticker")


def _safe_url(value: Any) -> str:
    url = str(value or "")
    return url if url.lower().startswith(("http://", "https://", "/")) else ""


def _media(kind: str, url: str, caption: str) -> SafeString:
    link = format_html('<a class="sinch-media" href="{}" rel="noreferrer" target="_blank">{} file</a>', url, kind)
    if not url:
        link = format_html('<span class="sinch-media">{} (no URL)</span>', kind)
    thumbnail = (
        format_html('<a href="{}" target="_blank"><img class="sinch-thumb" src="{}" alt="{}"></a>', url, url, kind)
        if url and kind in ("image", "sticker")
        else ""
    )
    text = format_html('<div class="sinch-caption">{}</div>', caption) if caption else ""
    return format_html("{}{}{}", thumbnail, link, text)


def _location(lat: Any, lng: Any, name: Any, address: Any) -> SafeString:
    place = ", ".join(str(part) for part in (name, address) if part)
    return format_html(
        '<span class="sinch-location">Location {}, {}</span>{}',
        lat,
        lng,
        format_html(" ({})", place) if place else "",
    )


def _cards(cards: Any) -> SafeString:
    rows = []
    for card in cards if isinstance(cards, list) else []:
        if not isinstance(card, dict):
            continue
        name: dict[str, Any] = card["name"] if isinstance(card.get("name"), dict) else {}
        formatted = name.get("formatted_name") or " ".join(
            str(part) for part in (name.get("first_name"), name.get("last_name")) if part
        )
        phones = ", ".join(str(phone.get("phone", "")) for phone in card.get("phones") or [] if isinstance(phone, dict))
        rows.append((formatted or "(no name)", phones))
    return format_html(
        '<ul class="sinch-cards">{}</ul>', format_html_join("", "<li>Contact card: {} <small>{}</small></li>", rows)
    )


def inbound_html(message_type: str, content: dict[str, Any], text: str, media_url: str = "") -> SafeString:
    """One inbound message's content, by type (whatsapp-callback.md)."""
    content = content if isinstance(content, dict) else {}
    if message_type == "text":
        return format_html('<span class="sinch-text">{}</span>', content.get("body", text))
    if message_type in MEDIA_TYPES:
        url = media_url or _safe_url(content.get("url"))
        return _media(message_type, url, str(content.get("caption") or content.get("filename") or ""))
    if message_type == "location":
        return _location(content.get("latitude"), content.get("longitude"), content.get("name"), content.get("address"))
    if message_type == "contacts":
        return _cards(content.get("contacts"))
    if message_type == "button":
        return format_html('<span class="sinch-button">Button "{}"</span>', content.get("text", text))
    if message_type == "interactive":
        reply: dict[str, Any] = content["message"] if isinstance(content.get("message"), dict) else {}
        kind = "List choice" if reply.get("type") == "list" else "Button"
        return format_html(
            '<span class="sinch-button">{} "{}" <small>(id {})</small></span>',
            kind,
            reply.get("title", text),
            reply.get("id", ""),
        )
    return format_html('<span class="sinch-text">[{}] {}</span>', message_type, text)


def outbound_html(message_type: str, payload: dict[str, Any]) -> SafeString:
    """One outbound message's content, by type (whatsapp-message.md)."""
    payload = payload if isinstance(payload, dict) else {}
    if message_type == "text":
        return format_html('<span class="sinch-text">{}</span>', payload.get("text", ""))
    if message_type == "template":
        params = payload.get("body_params") or []
        return format_html(
            '<span class="sinch-template">Template <strong>{}</strong> ({}){}</span>',
            payload.get("template_name", ""),
            payload.get("language", ""),
            format_html(": {}", ", ".join(str(p) for p in params)) if params else "",
        )
    if message_type in MEDIA_TYPES:
        return _media(message_type, _safe_url(payload.get("url")), str(payload.get("caption") or ""))
    if message_type == "location":
        return _location(payload.get("lat"), payload.get("lng"), payload.get("name"), payload.get("address"))
    if message_type == "contacts":
        return _cards(payload.get("contacts"))
    if message_type == "interactive":
        body: dict[str, Any] = payload["body"] if isinstance(payload.get("body"), dict) else {}
        return format_html('<span class="sinch-text">Interactive: {}</span>', body.get("text", ""))
    return SafeString("")
