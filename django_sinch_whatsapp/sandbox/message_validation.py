"""``POST /messages`` bodies: recipients, callback and every message type (whatsapp-message.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .validation import (
    MAX_NUMBERS,
    ValidationError,
    get_list,
    get_str,
    normalize_msisdn,
    require_object,
    require_url,
)

MAX_TEXT = 4096  # text message: "Up to 4096 characters"
MAX_TEMPLATE_HEADER_PARAMS = 60  # "Up to 60 characters for all parameters"
MAX_TEMPLATE_BODY_PARAMS = 1024  # "Up to 1024 characters for all parameters"
MAX_TEMPLATE_BUTTONS = 3  # quick reply index is 0-2 (whatsapp-callback.md)
TEMPLATE_MEDIA_TYPES = ("text", "image", "video", "document")  # "Audio template messages are not supported."
TEMPLATE_BUTTON_TYPES = ("call", "url", "quick_reply")

# whatsapp-introduction.md, "Supported language codes" (compared case-insensitively: the page also shows "en_us").
_LANGUAGES = (
    "af sq ar az bn bg ca zh_CN zh_HK zh_TW hr cs da nl en en_GB en_US et fil fi fr de el gu ha he hi hu id ga it ja kn "
    "kk ko lo lv lt mk ms ml mr nb fa pl pt_BR pt_PT pa ro ru sr sk sl es es_AR es_ES es_MX sw sv ta te th tr uk ur uz "
    "vi zu"
)
LANGUAGE_CODES = frozenset(code.lower() for code in _LANGUAGES.split())


@dataclass(frozen=True)
class Recipient:
    raw: Any
    display: str  # "+<digits>" as delivery reports echo it, or the group id
    digits: str | None  # None for a group id


@dataclass(frozen=True)
class SendRequest:
    recipients: list[Recipient]
    message: dict[str, Any]
    callback: str | None


def validate_send(body: Any, group_ids: set[str] | frozenset[str] = frozenset()) -> SendRequest:
    """The whole ``POST /messages`` body: ``to`` (1 to 20), ``message``, optional ``callback``."""
    obj = require_object(body, "body")
    to = get_list(obj, "to", "", minimum=1, maximum=MAX_NUMBERS) or []
    recipients = []
    for index, item in enumerate(to):
        field = f"to[{index}]"
        if isinstance(item, str) and item.startswith("group:"):
            # whatsapp-api.yaml (legacy groups): "phone numbers (msisdns) or group ids"
            if item not in group_ids:
                raise ValidationError(field, f"unknown group {item!r}")
            recipients.append(Recipient(item, item, None))
            continue
        digits = normalize_msisdn(item)
        if digits is None:
            raise ValidationError(field, f"{str(item)[:40]!r} is not a valid MSISDN")
        recipients.append(Recipient(item, f"+{digits}", digits))
    message = validate_message(obj.get("message"), "message")
    callback = obj.get("callback")
    if callback is not None:
        require_url(callback, "callback")
    return SendRequest(recipients, message, callback)


def validate_message(value: Any, path: str) -> dict[str, Any]:
    message = require_object(value, path)
    kind = message.get("type")
    validator = _VALIDATORS.get(kind) if isinstance(kind, str) else None
    if validator is None:
        known = ", ".join(_VALIDATORS)
        raise ValidationError(f"{path}.type", f"must be one of {known} (got {kind!r})")
    validator(message, path)
    return message


def _optional_bool(obj: dict[str, Any], key: str, path: str) -> None:
    if key in obj and obj[key] is not None and not isinstance(obj[key], bool):
        raise ValidationError(f"{path}.{key}", "must be true or false")


def _object(obj: dict[str, Any], key: str, path: str, *, required: bool = True) -> dict[str, Any] | None:
    if obj.get(key) is None and not required:
        return None
    return require_object(obj.get(key), f"{path}.{key}")


def _text(message: dict[str, Any], path: str) -> None:
    get_str(message, "text", path, max_length=MAX_TEXT)
    _optional_bool(message, "preview_url", path)


def _media(message: dict[str, Any], path: str, *, caption: bool = True, filename: bool = False) -> None:
    require_url(message.get("url"), f"{path}.url")
    if caption:
        get_str(message, "caption", path, required=False)
    if filename:
        get_str(message, "filename", path, required=False)
    get_str(message, "provider", path, required=False)


def _template(message: dict[str, Any], path: str) -> None:
    get_str(message, "template_name", path)
    if "params" in message:
        # release-notes-whatsapp.md, 2021-05-25: support for "params" was removed.
        raise ValidationError(f"{path}.params", "is no longer supported; use header_params and body_params")
    language = message.get("language")
    if language is not None and (not isinstance(language, str) or language.lower() not in LANGUAGE_CODES):
        raise ValidationError(f"{path}.language", f"unsupported language code {language!r}")
    for key, limit in (("header_params", MAX_TEMPLATE_HEADER_PARAMS), ("body_params", MAX_TEMPLATE_BODY_PARAMS)):
        params = get_list(message, key, path, required=False) or []
        for index, param in enumerate(params):
            if not isinstance(param, str):
                raise ValidationError(f"{path}.{key}[{index}]", "must be a string")
        total = sum(len(param) for param in params)
        if total > limit:
            raise ValidationError(f"{path}.{key}", f"all parameters together must be at most {limit} characters")
    media = _object(message, "media", path)
    assert media is not None
    media_type = media.get("type")
    media_path = f"{path}.media"
    if media_type not in TEMPLATE_MEDIA_TYPES:
        raise ValidationError(f"{media_path}.type", f"must be one of {', '.join(TEMPLATE_MEDIA_TYPES)}")
    if media_type != "text":
        if "caption" in media:
            raise ValidationError(f"{media_path}.caption", "is not allowed in template media")
        _media(media, media_path, caption=False, filename=media_type == "document")
    buttons = get_list(message, "buttons", path, required=False, maximum=MAX_TEMPLATE_BUTTONS) or []
    for index, button in enumerate(buttons):
        button_path = f"{path}.buttons[{index}]"
        require_object(button, button_path)
        if button.get("type") not in TEMPLATE_BUTTON_TYPES:
            raise ValidationError(f"{button_path}.type", f"must be one of {', '.join(TEMPLATE_BUTTON_TYPES)}")
        get_str(button, "parameter", button_path, required=False)
        get_str(button, "payload", button_path, required=False)


def _location(message: dict[str, Any], path: str) -> None:
    for key, limit in (("lat", 90), ("lng", 180)):
        value = message.get(key)
        if value is None:
            raise ValidationError(f"{path}.{key}", "is required")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"{path}.{key}", "must be a number")
        if not -limit <= value <= limit:
            raise ValidationError(f"{path}.{key}", f"must be between -{limit} and {limit}")
    get_str(message, "name", path, required=False)
    get_str(message, "address", path, required=False)


def _contacts(message: dict[str, Any], path: str) -> None:
    contacts = get_list(message, "contacts", path, minimum=1) or []
    for index, contact in enumerate(contacts):
        contact_path = f"{path}.contacts[{index}]"
        require_object(contact, contact_path)
        name = _object(contact, "name", contact_path)
        assert name is not None
        get_str(name, "formatted_name", f"{contact_path}.name")  # whatsapp-api.yaml ContactCardName
        for key, required_field in (("addresses", None), ("emails", "email"), ("phones", "phone"), ("urls", "url")):
            for item_index, item in enumerate(get_list(contact, key, contact_path, required=False) or []):
                item_path = f"{contact_path}.{key}[{item_index}]"
                require_object(item, item_path)
                if required_field:
                    get_str(item, required_field, item_path)
        _object(contact, "org", contact_path, required=False)
        get_str(contact, "birthday", contact_path, required=False)


def _sticker(message: dict[str, Any], path: str) -> None:
    has_url, has_id = message.get("url") is not None, message.get("id") is not None
    if has_url == has_id:
        raise ValidationError(path, "exactly one of url and id is required")
    if has_url:
        _media(message, path, caption=False)
    else:
        get_str(message, "id", path)
        if message.get("provider") is not None:
            raise ValidationError(f"{path}.provider", "can only be used together with url")


def _interactive_text(obj: dict[str, Any], key: str, path: str, limit: int, *, required: bool) -> None:
    part = _object(obj, key, path, required=required)
    if part is not None:
        get_str(part, "text", f"{path}.{key}", max_length=limit)


def _interactive(message: dict[str, Any], path: str) -> None:
    inner = _object(message, "message", path)
    assert inner is not None
    inner_path = f"{path}.message"
    kind = inner.get("type")
    if kind not in ("button", "list"):
        raise ValidationError(f"{inner_path}.type", "must be one of button, list")
    header = _object(inner, "header", inner_path, required=False)
    if header is not None:
        header_path = f"{inner_path}.header"
        header_types = ("text", "document", "video", "image") if kind == "button" else ("text",)
        if header.get("type") not in header_types:
            raise ValidationError(f"{header_path}.type", f"must be one of {', '.join(header_types)}")
        if header["type"] == "text":
            get_str(header, "text", header_path, max_length=60)
        else:
            _media(header, header_path, caption=False, filename=header["type"] == "document")
    _interactive_text(inner, "body", inner_path, 1024, required=True)
    _interactive_text(inner, "footer", inner_path, 60, required=False)
    action = _object(inner, "action", inner_path)
    assert action is not None
    action_path = f"{inner_path}.action"
    if kind == "button":
        for index, button in enumerate(get_list(action, "buttons", action_path, minimum=1, maximum=3) or []):
            button_path = f"{action_path}.buttons[{index}]"
            require_object(button, button_path)
            if button.get("type") != "reply":
                raise ValidationError(f"{button_path}.type", "must be reply")
            get_str(button, "id", button_path, max_length=230)
            get_str(button, "title", button_path, max_length=20)
        return
    get_str(action, "button", action_path, max_length=20)
    row_ids: set[str] = set()
    for index, section in enumerate(get_list(action, "sections", action_path, minimum=1, maximum=10) or []):
        section_path = f"{action_path}.sections[{index}]"
        require_object(section, section_path)
        get_str(section, "title", section_path, max_length=24)
        for row_index, row in enumerate(get_list(section, "rows", section_path, minimum=1, maximum=10) or []):
            row_path = f"{section_path}.rows[{row_index}]"
            require_object(row, row_path)
            row_id = get_str(row, "id", row_path, max_length=174)
            if row_id in row_ids:
                raise ValidationError(f"{row_path}.id", f"{row_id!r} is not unique in the message")
            row_ids.add(row_id or "")
            get_str(row, "title", row_path, max_length=20)
            get_str(row, "description", row_path, required=False, max_length=72)
    if len(row_ids) > 10:
        raise ValidationError(f"{action_path}.sections", f"may hold at most 10 rows in all (got {len(row_ids)})")


_VALIDATORS: dict[str, Callable[[dict[str, Any], str], None]] = {
    "template": _template,
    "text": _text,
    "image": _media,
    "video": _media,
    "document": lambda message, path: _media(message, path, filename=True),
    "audio": lambda message, path: _media(message, path, caption=False),
    "location": _location,
    "contacts": _contacts,
    "sticker": _sticker,
    "interactive": _interactive,
}
