"""The public builders: each assembles a wire ``message`` dict and validates it like raw JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Through the module, not ``from .validation import _validate``: the name is looked up at call time.
from . import validation
from .checks import Message


def text(text: str, *, preview_url: bool = False) -> Message:
    """A session text message (within the 24-hour customer care window)."""
    return validation._validate({"type": "text", "preview_url": preview_url, "text": text})


def template(
    template_name: str,
    *,
    language: str = "en",
    header_params: Sequence[str] | None = None,
    body_params: Sequence[str] | None = None,
    media: Mapping[str, Any] | None = None,
    buttons: Sequence[Mapping[str, Any]] | None = None,
    ttl: str | None = None,
    header_text_length: int = 0,
    body_text_length: int = 0,
) -> Message:
    """A template message, the only kind that may open a conversation.

    ``media`` is ``{"type": "text"}`` when not given (image, video and document
    take ``url``/``provider``, documents ``filename``; no caption, no audio).
    ``buttons`` are ``{"type": "call"}``, ``{"type": "url", "parameter": ...}``
    or ``{"type": "quick_reply", "payload": ...}``. ``ttl`` is deprecated by Sinch
    (a ``DeprecationWarning``) but still sent. ``header_text_length`` and
    ``body_text_length`` are the lengths of the template's own text, counted in
    the documented 60 and 1024 character totals.
    """
    message = {
        "type": "template",
        "template_name": template_name,
        "language": language,
        "header_params": header_params,
        "body_params": body_params,
        "media": media,
        "buttons": buttons,
        "ttl": ttl,
    }
    return validation._validate(message, header_text_length=header_text_length, body_text_length=body_text_length)


def image(url: str, *, caption: str | None = None, provider: str | None = None) -> Message:
    """An image message; ``provider`` names a media provider that can fetch a protected URL."""
    return validation._validate({"type": "image", "url": url, "caption": caption, "provider": provider})


def video(url: str, *, caption: str | None = None, provider: str | None = None) -> Message:
    """A video message (mp4 or 3gpp, H.264 and AAC per whatsapp-introduction.md)."""
    return validation._validate({"type": "video", "url": url, "caption": caption, "provider": provider})


def document(
    url: str, *, caption: str | None = None, filename: str | None = None, provider: str | None = None
) -> Message:
    """A document message; the caption is shown as the document's title."""
    return validation._validate(
        {"type": "document", "url": url, "caption": caption, "filename": filename, "provider": provider}
    )


def audio(url: str, *, provider: str | None = None) -> Message:
    """An audio message; WhatsApp shows no caption for audio, so none is taken."""
    return validation._validate({"type": "audio", "url": url, "provider": provider})


def location(lat: float, lng: float, *, name: str | None = None, address: str | None = None) -> Message:
    """A location pin; ``lat`` in [-90, 90] and ``lng`` in [-180, 180] degrees."""
    return validation._validate({"type": "location", "lat": lat, "lng": lng, "name": name, "address": address})


def contacts(cards: Sequence[Mapping[str, Any]]) -> Message:
    """One or more contact cards, each with ``name.formatted_name`` (whatsapp-callback.md lists the fields)."""
    return validation._validate({"type": "contacts", "contacts": cards})


def sticker(*, url: str | None = None, id: str | None = None, provider: str | None = None) -> Message:
    """A sticker by ``url`` (optionally with ``provider``) or by stickerpack ``id``, never both."""
    return validation._validate({"type": "sticker", "url": url, "id": id, "provider": provider})


def interactive_buttons(
    body: str,
    buttons: Sequence[Mapping[str, Any]],
    *,
    header: str | Mapping[str, Any] | None = None,
    footer: str | None = None,
) -> Message:
    """Up to three reply buttons, each ``{"id": ..., "title": ...}``; a press comes back in a callback.

    ``header`` is a header object (``{"type": "image", "url": ...}``) or a string
    for a text header.
    """
    if isinstance(header, str):
        header = {"type": "text", "text": header}
    if isinstance(buttons, (list, tuple)):
        buttons = [{"type": "reply", **button} if isinstance(button, Mapping) else button for button in buttons]
    inner = {
        "type": "button",
        "header": header,
        "body": {"text": body},
        "footer": _footer(footer),
        "action": {"buttons": buttons},
    }
    return validation._validate({"type": "interactive", "message": inner})


def interactive_list(
    body: str,
    button: str,
    sections: Sequence[Mapping[str, Any]],
    *,
    header_text: str | None = None,
    footer: str | None = None,
) -> Message:
    """A list shown after pressing ``button``: sections of ``{"title": ..., "rows": [{"id", "title", "description"}]}``."""
    header = None if header_text is None else {"type": "text", "text": header_text}
    action = {"button": button, "sections": sections}
    inner = {"type": "list", "header": header, "body": {"text": body}, "footer": _footer(footer), "action": action}
    return validation._validate({"type": "interactive", "message": inner})


def _footer(footer: str | None) -> Message | None:
    return None if footer is None else {"text": footer}
