"""One validator per message type, and :func:`validate_message` that picks the one for a message's type."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .checks import Message, _array, _fail, _json_type, _kind, _media_fields, _number, _object, _string
from .contact_cards import _contact_card
from .interactive import _button_message, _list_message
from .limits import _LANGUAGES, _LIMIT, MESSAGE_TYPES


class ValidatedMessage(dict):  # type: ignore[type-arg]
    """A message object that has passed :func:`validate_message`; not checked again."""


@dataclass(frozen=True)
class _Context:
    """What the wire JSON cannot say: the length of the template's own header and body text."""

    header_text_length: int = 0
    body_text_length: int = 0


# Frames from warnings.warn (in _template) up to whoever called template() or validate_message().
_WARN_STACKLEVEL = 4


_TEMPLATE_MEDIA = {"text": (), "image": ("provider",), "video": ("provider",), "document": ("provider", "filename")}
_TEMPLATE_BUTTONS = {"call": (), "url": ("parameter",), "quick_reply": ("payload",)}


def _template(data: Mapping[str, Any], path: str, context: _Context) -> Message:
    refused = {"params": "was removed on 2021-05-25 (release-notes-whatsapp.md); use header_params and body_params"}
    optional = ("language", "header_params", "body_params", "media", "buttons", "ttl")
    msg = _object(data, path, "template messages", ("type", "template_name"), optional, refused)
    _string(msg["template_name"], f"{path}.template_name", required=True)
    if "language" in msg:
        # whatsapp-message.md: "Accepted language codes can be found in the introduction". A code in
        # another case ("EN", "en_us") is sent in the table's spelling ("en", "en_US"), never as typed.
        canonical = _LANGUAGES.get(_string(msg["language"], f"{path}.language").lower())
        if canonical is None:
            _fail(
                f"{path}.language",
                f"is {msg['language']!r}, not a code of whatsapp-introduction.md (en, en_US, pt_BR ...)",
            )
        msg["language"] = canonical
    for key, template_text in (
        ("header_params", context.header_text_length),
        ("body_params", context.body_text_length),
    ):
        params = [_string(p, f"{path}.{key}[{i}]") for i, p in enumerate(_array(msg.get(key, ()), f"{path}.{key}"))]
        limit = _LIMIT[f"template.{key}"]
        total = sum(map(len, params)) + template_text
        if total > limit.limit:
            problem = f"totals {total} characters ({template_text} of them template text); the limit is {limit.limit}"
            _fail(f"{path}.{key}", problem, limit=limit.limit, actual=total)
        if key in msg:
            msg[key] = params
    # whatsapp-message.md: media is required; "For a message without media, set the media type to text".
    msg["media"] = _template_media(msg.get("media", {"type": "text"}), f"{path}.media")
    if "buttons" in msg:
        buttons = _array(msg["buttons"], f"{path}.buttons")
        msg["buttons"] = [_template_button(button, f"{path}.buttons[{i}]") for i, button in enumerate(buttons)]
    if "ttl" in msg:
        _string(msg["ttl"], f"{path}.ttl", required=True)
        # whatsapp-message.md + release-notes-whatsapp.md (2021-06-29): ttl is deprecated and ignored.
        message = "template ttl is deprecated by Sinch since 2021-06-29 and ignored; it is still sent as given"
        warnings.warn(message, DeprecationWarning, stacklevel=_WARN_STACKLEVEL)
    return msg


def _template_media(data: Any, path: str) -> Message:
    if isinstance(data, Mapping) and data.get("type") == "audio":
        _fail(f"{path}.type", "is 'audio'; audio template messages are not supported (whatsapp-message.md)")
    kind = _kind(data, path, "template media", tuple(_TEMPLATE_MEDIA))
    refused = {"caption": "is not allowed in template media (whatsapp-message.md); documents can use filename"}
    required = ("type",) if kind == "text" else ("type", "url")
    return _media_fields(_object(data, path, f"{kind} template media", required, _TEMPLATE_MEDIA[kind], refused), path)


def _template_button(data: Any, path: str) -> Message:
    kind = _kind(data, path, "template buttons", tuple(_TEMPLATE_BUTTONS))
    button = _object(data, path, f"{kind} buttons", ("type",), _TEMPLATE_BUTTONS[kind])
    for key in _TEMPLATE_BUTTONS[kind]:
        if key in button:
            _string(button[key], f"{path}.{key}")
    return button


def _text(data: Mapping[str, Any], path: str, context: _Context) -> Message:
    msg = _object(data, path, "text messages", ("type", "text"), ("preview_url",))
    _string(msg["text"], f"{path}.text", _LIMIT["text"])
    if not msg["text"].strip():
        _fail(f"{path}.text", "is only whitespace; a text message needs at least one visible character")
    if "preview_url" in msg and not isinstance(msg["preview_url"], bool):
        _fail(f"{path}.preview_url", f"must be true or false, not {_json_type(msg['preview_url'])}")
    return msg


# whatsapp-message.md: image/video take caption and provider, document adds filename, audio has neither caption
_MEDIA_MESSAGE = {
    "image": ("caption", "provider"),
    "video": ("caption", "provider"),
    "document": ("filename", "caption", "provider"),
    "audio": ("provider",),
}


def _media(data: Mapping[str, Any], path: str, context: _Context) -> Message:
    kind = data["type"]
    return _media_fields(_object(data, path, f"{kind} messages", ("type", "url"), _MEDIA_MESSAGE[kind]), path)


def _location(data: Mapping[str, Any], path: str, context: _Context) -> Message:
    msg = _object(data, path, "location messages", ("type", "lat", "lng"), ("name", "address"))
    _number(msg["lat"], f"{path}.lat", _LIMIT["location.lat"])
    _number(msg["lng"], f"{path}.lng", _LIMIT["location.lng"])
    for key in ("name", "address"):
        if key in msg:
            _string(msg[key], f"{path}.{key}")
    return msg


def _contacts(data: Mapping[str, Any], path: str, context: _Context) -> Message:
    msg = _object(data, path, "contacts messages", ("type", "contacts"))
    cards = _array(msg["contacts"], f"{path}.contacts", min_items=1)
    msg["contacts"] = [_contact_card(card, f"{path}.contacts[{i}]") for i, card in enumerate(cards)]
    return msg


def _sticker(data: Mapping[str, Any], path: str, context: _Context) -> Message:
    msg = _object(data, path, "sticker messages", ("type",), ("url", "id", "provider"))
    # whatsapp-message.md, Sticker message: "Only one of the parameters url and id may be used"
    if "url" in msg and "id" in msg:
        _fail(f"{path}.id", "must not be given together with url; a sticker is sent by url or by id")
    if "url" not in msg and "id" not in msg:
        _fail(f"{path}.url", "is required unless an id is given; a sticker is sent by url or by id")
    if "id" in msg:
        _string(msg["id"], f"{path}.id", required=True)
        if "provider" in msg:
            _fail(f"{path}.provider", "can only be used with url, not with id (whatsapp-message.md)")
    return _media_fields(msg, path)


def _interactive(data: Mapping[str, Any], path: str, context: _Context) -> Message:
    msg = _object(data, path, "interactive messages", ("type", "message"))
    inner = f"{path}.message"
    kind = _kind(msg["message"], inner, "interactive messages", ("button", "list"))
    msg["message"] = (
        _button_message(msg["message"], inner) if kind == "button" else _list_message(msg["message"], inner)
    )
    return msg


_VALIDATORS: dict[str, Callable[[Mapping[str, Any], str, _Context], Message]] = {
    "template": _template,
    "text": _text,
    "image": _media,
    "video": _media,
    "document": _media,
    "audio": _media,
    "location": _location,
    "contacts": _contacts,
    "sticker": _sticker,
    "interactive": _interactive,
}


def _validate(message: Any, *, header_text_length: int = 0, body_text_length: int = 0) -> Message:
    # Called directly by every public function, so the DeprecationWarning stacklevel is the same for all.
    for name, length in (("header_text_length", header_text_length), ("body_text_length", body_text_length)):
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            _fail(name, f"is {length!r}; it must be a whole number of characters, 0 or more")
    kind = _kind(message, "message", "messages", MESSAGE_TYPES)
    return ValidatedMessage(_VALIDATORS[kind](message, "message", _Context(header_text_length, body_text_length)))


def validate_callback_url(url: str | None, field: str = "callback") -> str | None:
    """The per-message ``callback`` (whatsapp-message.md): an absolute http(s) URL, or None for the bot's default."""
    if url is None or url == "":
        return None
    if not isinstance(url, str):
        _fail(field, f"must be a string, not {_json_type(url)}")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or url != url.strip():
        _fail(field, f"is {url[:100]!r}; it must be an absolute http:// or https:// URL where Sinch can post callbacks")
    return url


def validate_message(message: Mapping[str, Any], *, header_text_length: int = 0, body_text_length: int = 0) -> Message:
    """Check any wire ``message`` object (e.g. raw JSON from the API) and return a normalized copy.

    Unknown keys and types are refused, JSON nulls are dropped, a template without
    media gets ``{"type": "text"}``. The template text lengths are not on the wire:
    pass them when known so the 60/1024-character totals include them.
    Raises ``MessageValidationError`` naming the first field that breaks a rule.
    """
    return _validate(message, header_text_length=header_text_length, body_text_length=body_text_length)
