"""Builders and validation for the ``message`` object of ``POST /whatsapp/v1/{bot-id}/messages``.

Every documented limit is checked here, before a row is written or a request
made, so a caller learns which field is wrong (a dotted path into the wire
JSON, e.g. ``message.message.action.buttons[2].title``) instead of reading a
400 from Sinch later. The builders only assemble a dict and hand it to the
same validation that ``validate_message`` applies to raw JSON posted through
the API: each rule has one implementation.

The pages in ``sinch-whatsapp-docs`` are the contract; where they are newer
than ``whatsapp-api.yaml`` they win (``header_params``/``body_params`` instead
of ``params``; ``interactive`` and ``sticker`` exist only in the pages).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple, NoReturn
from urllib.parse import urlsplit

from django_sinch_whatsapp.exceptions import MessageValidationError

Message = dict[str, Any]


class ValidatedMessage(dict):  # type: ignore[type-arg]
    """A message object that has passed :func:`validate_message`; not checked again."""


# whatsapp-message.md, "Message object types", in the page's order.
MESSAGE_TYPES: tuple[str, ...] = (
    "template",
    "text",
    "image",
    "video",
    "document",
    "audio",
    "location",
    "contacts",
    "sticker",
    "interactive",
)


class Limit(NamedTuple):
    """One documented bound: ``field`` is the path with ``[]`` for any index."""

    name: str
    field: str
    limit: int | float
    minimum: int | float | None
    unit: str
    what: str


_ACTION = "message.message.action"
LIMITS: tuple[Limit, ...] = (
    # whatsapp-message.md, Text message: text up to 4096 characters (required)
    Limit("text", "message.text", 4096, 1, "characters", "text of a text message"),
    # whatsapp-message.md, Template message: up to 60 / 1024 characters for all parameters and predefined text
    Limit("template.header_params", "message.header_params", 60, None, "characters", "header parameters + header text"),
    Limit("template.body_params", "message.body_params", 1024, None, "characters", "body parameters + body text"),
    # whatsapp-media-provider.md: provider name, 200 characters maximum
    Limit("provider", "message.provider", 200, 1, "characters", "media provider name"),
    # whatsapp-message.md, Location message: lat [-90, 90], lng [-180, 180]
    Limit("location.lat", "message.lat", 90, -90, "degrees", "latitude"),
    Limit("location.lng", "message.lng", 180, -180, "degrees", "longitude"),
    # whatsapp-message.md, Interactive message: header text max 60, body max 1024, footer max 60
    Limit("interactive.header", "message.message.header.text", 60, 1, "characters", "interactive header text"),
    Limit("interactive.body", "message.message.body.text", 1024, 1, "characters", "interactive body text"),
    Limit("interactive.footer", "message.message.footer.text", 60, 1, "characters", "interactive footer text"),
    # whatsapp-message.md, Button message: [1, 3] buttons, id max 230, title max 20
    Limit("button.buttons", f"{_ACTION}.buttons", 3, 1, "buttons", "reply buttons"),
    Limit("button.id", f"{_ACTION}.buttons[].id", 230, 1, "characters", "reply button id"),
    Limit("button.title", f"{_ACTION}.buttons[].title", 20, 1, "characters", "reply button title"),
    # whatsapp-message.md, List message: button max 20, [1, 10] sections, title max 24, [1, 10] rows,
    # at most 10 rows in all sections, row id max 174, row title max 20, description max 72
    Limit("list.button", f"{_ACTION}.button", 20, 1, "characters", "list button text"),
    Limit("list.sections", f"{_ACTION}.sections", 10, 1, "sections", "list sections"),
    Limit("list.section.title", f"{_ACTION}.sections[].title", 24, 1, "characters", "list section title"),
    Limit("list.section.rows", f"{_ACTION}.sections[].rows", 10, 1, "rows", "rows in one section"),
    Limit("list.rows_total", f"{_ACTION}.sections", 10, None, "rows", "rows in all sections together"),
    Limit("list.row.id", f"{_ACTION}.sections[].rows[].id", 174, 1, "characters", "list row id"),
    Limit("list.row.title", f"{_ACTION}.sections[].rows[].title", 20, 1, "characters", "list row title"),
    Limit(
        "list.row.description", f"{_ACTION}.sections[].rows[].description", 72, None, "characters", "row description"
    ),
)
_LIMIT = {limit.name: limit for limit in LIMITS}

# whatsapp-introduction.md, "Supported language codes".
LANGUAGE_CODES: tuple[str, ...] = (
    *("af", "sq", "ar", "az", "bn", "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da", "nl", "en", "en_GB"),
    *("en_US", "et", "fil", "fi", "fr", "de", "el", "gu", "ha", "he", "hi", "hu", "id", "ga", "it", "ja", "kn"),
    *("kk", "ko", "lo", "lv", "lt", "mk", "ms", "ml", "mr", "nb", "fa", "pl", "pt_BR", "pt_PT", "pa", "ro", "ru"),
    *("sr", "sk", "sl", "es", "es_AR", "es_ES", "es_MX", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz"),
    *("vi", "zu"),
)
# whatsapp-message.md writes the locale as `en_us` while the table says `en_US`: match case-insensitively.
_LANGUAGES = {code.lower() for code in LANGUAGE_CODES}
# whatsapp-media-provider.md: "A-Z, a-z, -, and _"; release-notes-whatsapp.md (2020-03-10) says alphanumeric.
_PROVIDER_NAME = re.compile(r"[A-Za-z0-9_-]+")
_BIRTHDAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# --- primitive checks -------------------------------------------------------------------------


def _fail(path: str, problem: str, *, limit: Any = None, actual: Any = None) -> NoReturn:
    raise MessageValidationError(path, problem, limit=limit, actual=actual)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return f"a {type(value).__name__}"


def _check_size(size: int, path: str, limit: Limit, verb: str) -> None:
    if size > limit.limit:
        _fail(path, f"{verb} {size} {limit.unit}; the limit is {limit.limit}", limit=limit.limit, actual=size)
    if limit.minimum is not None and size < limit.minimum:
        problem = f"{verb} {size} {limit.unit}; at least {limit.minimum} is required"
        _fail(path, problem, limit=limit.minimum, actual=size)


def _object(
    value: Any,
    path: str,
    what: str,
    required: Sequence[str] = (),
    optional: Sequence[str] = (),
    refused: Mapping[str, str] | None = None,
) -> Message:
    """A copy without null members (JSON null means "not given"); unknown keys are refused."""
    if not isinstance(value, Mapping):
        _fail(path, f"must be an object, not {_json_type(value)}")
    known = (*required, *optional)
    result: Message = {}
    for key, item in value.items():
        if refused and key in refused:
            if item is not None:
                _fail(f"{path}.{key}", refused[key])
        elif key not in known:
            _fail(f"{path}.{key}", f"is not a field of {what}; known fields: {', '.join(sorted(known))}")
        elif item is not None:
            result[key] = item
    for key in required:
        if key not in result:
            _fail(f"{path}.{key}", f"is required in {what}")
    return result


def _string(value: Any, path: str, limit: Limit | None = None, *, required: bool = False) -> str:
    if not isinstance(value, str):
        _fail(path, f"must be a string, not {_json_type(value)}")
    if limit is not None:
        _check_size(len(value), path, limit, "is")
    elif required and not value:
        _fail(path, "is empty; a value is required", limit=1, actual=0)
    return value


def _array(value: Any, path: str, limit: Limit | None = None, *, min_items: int = 0) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        _fail(path, f"must be an array, not {_json_type(value)}")
    if limit is not None:
        _check_size(len(value), path, limit, "has")
    elif len(value) < min_items:
        _fail(path, f"has {len(value)} items; at least {min_items} is required", limit=min_items, actual=len(value))
    return list(value)


def _choice(value: Any, path: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        _fail(path, f"is {value!r}; it must be one of {', '.join(choices)}")
    return value


def _kind(data: Any, path: str, what: str, kinds: Sequence[str]) -> str:
    """The ``type`` member that decides which other members an object may have."""
    if not isinstance(data, Mapping):
        _fail(path, f"must be an object, not {_json_type(data)}")
    if data.get("type") is None:
        _fail(f"{path}.type", f"is required in {what}; it must be one of {', '.join(kinds)}")
    return _choice(data["type"], f"{path}.type", kinds)


def _url(value: Any, path: str) -> str:
    # whatsapp-message.md: "Should be either HTTP or HTTPS link."
    _string(value, path, required=True)
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        _fail(path, f"is {value[:100]!r}; it must be an http:// or https:// URL")
    return value


def _provider(value: Any, path: str) -> str:
    _string(value, path, _LIMIT["provider"])
    if not _PROVIDER_NAME.fullmatch(value):
        _fail(path, f"is {value[:100]!r}; a provider name has only letters, digits, '-' and '_'")
    return value


def _number(value: Any, path: str, limit: Limit) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        _fail(path, f"must be a number, not {_json_type(value)}")
    if not math.isfinite(value):
        _fail(path, f"is {value}; it must be a finite number")
    bound = limit.limit if value > limit.limit else limit.minimum
    if value > limit.limit or (limit.minimum is not None and value < limit.minimum):
        problem = f"is {value} {limit.unit}; the limit is {bound} (range {limit.minimum} to {limit.limit})"
        _fail(path, problem, limit=bound, actual=value)
    return value


def _media_fields(obj: Message, path: str) -> Message:
    """The members media objects share, wherever they appear (messages, template media, headers)."""
    for key, value in obj.items():
        if key == "url":
            _url(value, f"{path}.url")
        elif key == "provider":
            _provider(value, f"{path}.provider")
        elif key in ("caption", "filename"):
            _string(value, f"{path}.{key}")
    return obj


# --- one validator per message type ---------------------------------------------------------


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
    if "language" in msg and _string(msg["language"], f"{path}.language").lower() not in _LANGUAGES:
        # whatsapp-message.md: "Accepted language codes can be found in the introduction"
        _fail(
            f"{path}.language", f"is {msg['language']!r}, not a code of whatsapp-introduction.md (en, en_US, pt_BR ...)"
        )
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


class _CardPart(NamedTuple):
    what: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    choices: Mapping[str, tuple[str, ...]]


# whatsapp-callback.md, "Contact object" and its sub-tables (the send page asks for "valid contact cards");
# wa_id on phones is in the send page's sample; formatted_name is required by whatsapp-api.yaml.
_HOME_WORK = ("HOME", "WORK")
_ADDRESS = ("type", "street", "city", "state", "zip", "country", "country_code")
_CARD_LISTS = {
    "addresses": _CardPart("contact addresses", (), _ADDRESS, {"type": _HOME_WORK}),
    "emails": _CardPart("contact emails", (), ("type", "email"), {"type": _HOME_WORK}),
    "ims": _CardPart("contact IMs", (), ("service", "user_id"), {}),
    "phones": _CardPart(
        "contact phones", (), ("type", "phone", "wa_id"), {"type": ("CELL", "MAIN", "HOME", "WORK", "IPHONE")}
    ),
    "urls": _CardPart("contact URLs", (), ("type", "url"), {"type": _HOME_WORK}),
}
_CARD_OBJECTS = {
    "name": _CardPart(
        "contact names", ("formatted_name",), ("first_name", "last_name", "middle_name", "suffix", "prefix"), {}
    ),
    "org": _CardPart("contact organizations", (), ("company", "department", "title"), {}),
}


def _card_part(data: Any, path: str, part: _CardPart) -> Message:
    obj = _object(data, path, part.what, part.required, part.optional)
    for key, value in obj.items():
        if key in part.choices:
            _choice(value, f"{path}.{key}", part.choices[key])
        else:
            _string(value, f"{path}.{key}", required=key in part.required)
    return obj


def _contact_card(data: Any, path: str) -> Message:
    optional = ("addresses", "birthday", "emails", "ims", "org", "phones", "urls", "contact_image_url")
    card = _object(data, path, "contact cards", ("name",), optional)
    for key, value in list(card.items()):
        if key in _CARD_LISTS:
            items = _array(value, f"{path}.{key}")
            card[key] = [_card_part(item, f"{path}.{key}[{i}]", _CARD_LISTS[key]) for i, item in enumerate(items)]
        elif key in _CARD_OBJECTS:
            card[key] = _card_part(value, f"{path}.{key}", _CARD_OBJECTS[key])
        elif key == "contact_image_url":
            _url(value, f"{path}.{key}")
        elif key == "birthday" and not (_BIRTHDAY.fullmatch(_string(value, f"{path}.{key}")) and _is_date(value)):
            _fail(f"{path}.birthday", f"is {value[:40]!r}; it must be a date written YYYY-MM-DD")
    return card


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


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


def _text_object(data: Any, path: str, limit: Limit) -> Message:
    obj = _object(data, path, "interactive texts", ("text",))
    _string(obj["text"], f"{path}.text", limit)
    return obj


# whatsapp-message.md, Button message header: text, document (filename), video, image; list header: text only
_HEADERS = {
    "text": ("text",),
    "document": ("url", "filename", "provider"),
    "video": ("url", "provider"),
    "image": ("url", "provider"),
}


def _header(data: Any, path: str, kinds: tuple[str, ...]) -> Message:
    kind = _kind(data, path, "headers", kinds)
    required = ("type", "text") if kind == "text" else ("type", "url")
    header = _object(data, path, f"{kind} headers", required, _HEADERS[kind][1:])
    if kind == "text":
        _string(header["text"], f"{path}.text", _LIMIT["interactive.header"])
    return _media_fields(header, path)


def _interactive_frame(data: Any, path: str, kind: str, header_kinds: tuple[str, ...]) -> Message:
    """Members shared by button and list messages: header, body, footer; the action is checked by the caller."""
    obj = _object(data, path, f"interactive {kind} messages", ("type", "body", "action"), ("header", "footer"))
    if "header" in obj:
        obj["header"] = _header(obj["header"], f"{path}.header", header_kinds)
    obj["body"] = _text_object(obj["body"], f"{path}.body", _LIMIT["interactive.body"])
    if "footer" in obj:
        obj["footer"] = _text_object(obj["footer"], f"{path}.footer", _LIMIT["interactive.footer"])
    return obj


def _button_message(data: Any, path: str) -> Message:
    obj = _interactive_frame(data, path, "button", tuple(_HEADERS))
    action = _object(obj["action"], f"{path}.action", "button actions", ("buttons",))
    buttons: list[Message] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(_array(action["buttons"], f"{path}.action.buttons", _LIMIT["button.buttons"])):
        where = f"{path}.action.buttons[{i}]"
        button = _object(item, where, "reply buttons", ("type", "id", "title"))
        _choice(button["type"], f"{where}.type", ("reply",))
        button_id = _string(button["id"], f"{where}.id", _LIMIT["button.id"])
        _string(button["title"], f"{where}.title", _LIMIT["button.title"])
        # Ids tell which button was pressed (whatsapp-callback.md, interactive button reply): keep them apart.
        if button_id in seen:
            _fail(f"{where}.id", f"repeats the id of buttons[{seen[button_id]}]; button ids must be unique")
        seen[button_id] = i
        buttons.append(button)
    obj["action"] = {**action, "buttons": buttons}
    return obj


def _list_message(data: Any, path: str) -> Message:
    obj = _interactive_frame(data, path, "list", ("text",))
    where = f"{path}.action"
    action = _object(obj["action"], where, "list actions", ("button", "sections"))
    _string(action["button"], f"{where}.button", _LIMIT["list.button"])
    sections: list[Message] = []
    seen_ids: dict[str, str] = {}
    for s, item in enumerate(_array(action["sections"], f"{where}.sections", _LIMIT["list.sections"])):
        section = _object(item, f"{where}.sections[{s}]", "list sections", ("title", "rows"))
        _string(section["title"], f"{where}.sections[{s}].title", _LIMIT["list.section.title"])
        rows = _array(section["rows"], f"{where}.sections[{s}].rows", _LIMIT["list.section.rows"])
        rows = [_list_row(row, f"sections[{s}].rows[{r}]", where, seen_ids) for r, row in enumerate(rows)]
        sections.append({**section, "rows": rows})
    # whatsapp-message.md: "The total number of rows in all sections in a list message can be at most 10."
    _check_size(len(seen_ids), f"{where}.sections", _LIMIT["list.rows_total"], "has, in all sections,")
    obj["action"] = {**action, "sections": sections}
    return obj


def _list_row(data: Any, relative: str, action_path: str, seen_ids: dict[str, str]) -> Message:
    """One row; ``seen_ids`` maps each id seen so far in the message to where it was."""
    at = f"{action_path}.{relative}"
    row = _object(data, at, "list rows", ("id", "title"), ("description",))
    row_id = _string(row["id"], f"{at}.id", _LIMIT["list.row.id"])
    _string(row["title"], f"{at}.title", _LIMIT["list.row.title"])
    if "description" in row:
        _string(row["description"], f"{at}.description", _LIMIT["list.row.description"])
    # whatsapp-message.md: "Each ID must be unique in the message."
    if row_id in seen_ids:
        _fail(f"{at}.id", f"repeats the id of {seen_ids[row_id]}; row ids must be unique in the message")
    seen_ids[row_id] = relative
    return row


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


# --- public API -----------------------------------------------------------------------------------


def validate_message(message: Mapping[str, Any], *, header_text_length: int = 0, body_text_length: int = 0) -> Message:
    """Check any wire ``message`` object (e.g. raw JSON from the API) and return a normalized copy.

    Unknown keys and types are refused, JSON nulls are dropped, a template without
    media gets ``{"type": "text"}``. The template text lengths are not on the wire:
    pass them when known so the 60/1024-character totals include them.
    Raises ``MessageValidationError`` naming the first field that breaks a rule.
    """
    return _validate(message, header_text_length=header_text_length, body_text_length=body_text_length)


def text(text: str, *, preview_url: bool = False) -> Message:
    """A session text message (within the 24-hour customer care window)."""
    return _validate({"type": "text", "preview_url": preview_url, "text": text})


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
    return _validate(message, header_text_length=header_text_length, body_text_length=body_text_length)


def image(url: str, *, caption: str | None = None, provider: str | None = None) -> Message:
    """An image message; ``provider`` names a media provider that can fetch a protected URL."""
    return _validate({"type": "image", "url": url, "caption": caption, "provider": provider})


def video(url: str, *, caption: str | None = None, provider: str | None = None) -> Message:
    """A video message (mp4 or 3gpp, H.264 and AAC per whatsapp-introduction.md)."""
    return _validate({"type": "video", "url": url, "caption": caption, "provider": provider})


def document(
    url: str, *, caption: str | None = None, filename: str | None = None, provider: str | None = None
) -> Message:
    """A document message; the caption is shown as the document's title."""
    return _validate({"type": "document", "url": url, "caption": caption, "filename": filename, "provider": provider})


def audio(url: str, *, provider: str | None = None) -> Message:
    """An audio message; WhatsApp shows no caption for audio, so none is taken."""
    return _validate({"type": "audio", "url": url, "provider": provider})


def location(lat: float, lng: float, *, name: str | None = None, address: str | None = None) -> Message:
    """A location pin; ``lat`` in [-90, 90] and ``lng`` in [-180, 180] degrees."""
    return _validate({"type": "location", "lat": lat, "lng": lng, "name": name, "address": address})


def contacts(cards: Sequence[Mapping[str, Any]]) -> Message:
    """One or more contact cards, each with ``name.formatted_name`` (whatsapp-callback.md lists the fields)."""
    return _validate({"type": "contacts", "contacts": cards})


def sticker(*, url: str | None = None, id: str | None = None, provider: str | None = None) -> Message:
    """A sticker by ``url`` (optionally with ``provider``) or by stickerpack ``id``, never both."""
    return _validate({"type": "sticker", "url": url, "id": id, "provider": provider})


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
    return _validate({"type": "interactive", "message": inner})


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
    return _validate({"type": "interactive", "message": inner})


def _footer(footer: str | None) -> Message | None:
    return None if footer is None else {"text": footer}
