"""Request schemas transcribed from the parameter tables of the Sinch pages.

The schemas use the OpenAPI 3.0 schema dialect (so the effective contract stays a valid OpenAPI
document): objects whose ``type`` member picks the other members are ``oneOf`` + ``discriminator``,
never JSON Schema's ``if``/``then``. Each top-level schema says where it comes from in ``x-source``.
Two markers are read by :mod:`.validate`: ``deprecated: true`` (still accepted, reported as a note)
and ``x-removed`` (the member was taken out of the API; sending it is a violation).

What a table says only in prose (``Only one of the parameters url and id may be used``) is a
:class:`PageRule`: a small function, because JSON Schema would report it as an unreadable ``oneOf``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]
REF = "#/components/schemas/"
MESSAGE_PAGE = "whatsapp-message.md"

# whatsapp-message.md: media urls "Should be either HTTP or HTTPS link"; the send table: callback "Valid URL".
HTTP_URL: Schema = {"type": "string", "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$"}
# whatsapp-media-provider.md: "A-Z, a-z, -, and _ allowed. 200 characters maximum";
# release-notes-whatsapp.md 2020-03-10 says "alphanumeric characters plus - and/or _": digits allowed.
PROVIDER_NAME: Schema = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,200}$"}
# whatsapp-message.md, Template message: "Language codes and locales (e.g `en`, `en_us`)".
LANGUAGE: Schema = {"type": "string", "pattern": r"^[A-Za-z]{2,3}(_[A-Za-z]{2})?$"}


def text(max_length: int | None = None) -> Schema:
    schema: Schema = {"type": "string"}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


def array_of(items: Schema, min_items: int | None = None, max_items: int | None = None) -> Schema:
    schema: Schema = {"type": "array", "items": items}
    if min_items is not None:
        schema["minItems"] = min_items
    if max_items is not None:
        schema["maxItems"] = max_items
    return schema


def strings(min_items: int | None = None, max_items: int | None = None) -> Schema:
    return array_of({"type": "string"}, min_items, max_items)


def closed(properties: dict[str, Schema], required: tuple[str, ...] = (), source: str | None = None) -> Schema:
    """An object with exactly the members of a page table: unknown members are a violation."""
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if source:
        schema["x-source"] = source
    return schema


def constant(value: str) -> Schema:
    return {"type": "string", "enum": [value]}


def by_type(mapping: dict[str, str], source: str | None = None) -> Schema:
    """An object whose ``type`` picks one of the named component schemas."""
    schema: Schema = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string"}},
        "oneOf": [{"$ref": REF + name} for name in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": {kind: REF + name for kind, name in mapping.items()}},
    }
    if source:
        schema["x-source"] = source
    return schema


def _section(name: str) -> str:
    return f"{MESSAGE_PAGE} § {name}"


# --- whatsapp-message.md, "Template message" and "Templates with buttons" -----------------------------

_TEMPLATE = _section("Template message")
_BUTTONS = _section("Templates with buttons")
# "The objects are the same as described under Document message, Image message and Video message below,
# except that the caption parameter is not allowed." "For a message without media, set the media type to text."
# "Audio template messages are not supported."
TEMPLATE_SCHEMAS: dict[str, Schema] = {
    "PageTemplateMediaText": closed({"type": constant("text")}, ("type",), _TEMPLATE),
    "PageTemplateMediaImage": closed(
        {"type": constant("image"), "url": HTTP_URL, "provider": PROVIDER_NAME}, ("type", "url"), _TEMPLATE
    ),
    "PageTemplateMediaVideo": closed(
        {"type": constant("video"), "url": HTTP_URL, "provider": PROVIDER_NAME}, ("type", "url"), _TEMPLATE
    ),
    "PageTemplateMediaDocument": closed(
        {"type": constant("document"), "url": HTTP_URL, "provider": PROVIDER_NAME, "filename": text()},
        ("type", "url"),
        _TEMPLATE,
    ),
    "PageTemplateButtonCall": closed({"type": constant("call")}, ("type",), _BUTTONS),
    # "parameter: Yes, if the button is a dynamic URL button": the wire cannot tell, so optional here.
    "PageTemplateButtonUrl": closed({"type": constant("url"), "parameter": text()}, ("type",), _BUTTONS),
    "PageTemplateButtonQuickReply": closed({"type": constant("quick_reply"), "payload": text()}, ("type",), _BUTTONS),
}
TEMPLATE_SCHEMAS["TemplateMessage"] = closed(
    {
        "type": constant("template"),
        "template_name": text(),
        "language": LANGUAGE,
        "header_params": strings(),
        "body_params": strings(),
        "media": by_type(
            {
                "text": "PageTemplateMediaText",
                "image": "PageTemplateMediaImage",
                "video": "PageTemplateMediaVideo",
                "document": "PageTemplateMediaDocument",
            }
        ),
        "buttons": array_of(
            by_type(
                {
                    "call": "PageTemplateButtonCall",
                    "url": "PageTemplateButtonUrl",
                    "quick_reply": "PageTemplateButtonQuickReply",
                }
            )
        ),
        # The table: "ttl DEPRECATED"; release-notes-whatsapp.md 2021-06-29: "this parameter will be ignored".
        "ttl": {
            "type": "string",
            "deprecated": True,
            "description": "template ttl is deprecated and ignored since 2021-06-29 (release-notes-whatsapp.md)",
        },
        # release-notes-whatsapp.md 2021-05-25: "Remove support for old, deprecated params parameter".
        "params": {"x-removed": "template params was removed on 2021-05-25; use header_params and body_params"},
    },
    # The table marks media "Required: Yes" ("For a message without media, set the media type to text").
    ("type", "template_name", "media"),
    _TEMPLATE,
)


# --- whatsapp-message.md: text, media, location, contacts, sticker --------------------------------------

MESSAGE_SCHEMAS: dict[str, Schema] = {
    "TextMessage": closed(
        {"type": constant("text"), "text": text(4096), "preview_url": {"type": "boolean"}},
        ("type", "text"),
        _section("Text message"),
    ),
    "ImageMessage": closed(
        {"type": constant("image"), "url": HTTP_URL, "caption": text(), "provider": PROVIDER_NAME},
        ("type", "url"),
        _section("Image message"),
    ),
    "VideoMessage": closed(
        {"type": constant("video"), "url": HTTP_URL, "caption": text(), "provider": PROVIDER_NAME},
        ("type", "url"),
        _section("Video message"),
    ),
    "DocumentMessage": closed(
        {
            "type": constant("document"),
            "url": HTTP_URL,
            "filename": text(),
            "caption": text(),
            "provider": PROVIDER_NAME,
        },
        ("type", "url"),
        _section("Document message"),
    ),
    "AudioMessage": closed(
        {"type": constant("audio"), "url": HTTP_URL, "provider": PROVIDER_NAME},
        ("type", "url"),
        _section("Audio message"),
    ),
    "LocationMessage": closed(
        {
            "type": constant("location"),
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lng": {"type": "number", "minimum": -180, "maximum": 180},
            "name": text(),
            "address": text(),
        },
        ("type", "lat", "lng"),
        _section("Location message"),
    ),
    # "contacts: List of contact cards, Valid contact cards": the cards are the YAML's ContactCard.
    "ContactsMessage": closed(
        {"type": constant("contacts"), "contacts": array_of({"$ref": REF + "ContactCard"})},
        ("type", "contacts"),
        _section("Contacts message"),
    ),
    # The table marks both url and id "Required: Yes" and then says only one of them may be used:
    # neither is required by the schema; PageRule "sticker.url-xor-id" below says exactly one.
    "PageStickerMessage": closed(
        {"type": constant("sticker"), "url": HTTP_URL, "id": text(), "provider": PROVIDER_NAME},
        ("type",),
        _section("Sticker message"),
    ),
}


# --- whatsapp-message.md, "Interactive message": button and list ----------------------------------------

_INTERACTIVE = _section("Interactive message")
_BUTTON = _section("Interactive message / Button message")
_LIST = _section("Interactive message / List message")
_BODY = closed({"text": text(1024)}, ("text",))
_FOOTER = closed({"text": text(60)}, ("text",))
# The header tables type provider as "Object" but describe it as "Name of a provider": a name is a string,
# as in every other table that has provider (and whatsapp-media-provider.md's name).
INTERACTIVE_SCHEMAS: dict[str, Schema] = {
    "PageButtonHeaderText": closed({"type": constant("text"), "text": text(60)}, ("type", "text"), _BUTTON),
    "PageButtonHeaderDocument": closed(
        {"type": constant("document"), "url": text(), "filename": text(), "provider": PROVIDER_NAME},
        ("type", "url"),
        _BUTTON,
    ),
    "PageButtonHeaderVideo": closed(
        {"type": constant("video"), "url": text(), "provider": PROVIDER_NAME}, ("type", "url"), _BUTTON
    ),
    "PageButtonHeaderImage": closed(
        {"type": constant("image"), "url": text(), "provider": PROVIDER_NAME}, ("type", "url"), _BUTTON
    ),
}
INTERACTIVE_SCHEMAS["PageInteractiveButton"] = closed(
    {
        "type": constant("button"),
        "header": by_type(
            {
                "text": "PageButtonHeaderText",
                "document": "PageButtonHeaderDocument",
                "video": "PageButtonHeaderVideo",
                "image": "PageButtonHeaderImage",
            }
        ),
        "body": _BODY,
        "footer": _FOOTER,
        "action": closed(
            {
                # "buttons: [1, 3] button objects"; each "type: Constant value reply", id max 230, title max 20.
                "buttons": array_of(
                    closed({"type": constant("reply"), "id": text(230), "title": text(20)}, ("type", "id", "title")),
                    1,
                    3,
                )
            },
            ("buttons",),
        ),
    },
    ("type", "body", "action"),
    _BUTTON,
)
_ROW = closed({"id": text(174), "title": text(20), "description": text(72)}, ("id", "title"))
INTERACTIVE_SCHEMAS["PageInteractiveList"] = closed(
    {
        "type": constant("list"),
        "header": closed({"type": constant("text"), "text": text(60)}, ("type", "text")),
        "body": _BODY,
        "footer": _FOOTER,
        "action": closed(
            {
                "button": text(20),
                # "[1, 10] section objects"; each section: title max 24, "[1, 10] row objects".
                "sections": array_of(
                    closed({"title": text(24), "rows": array_of(_ROW, 1, 10)}, ("title", "rows")), 1, 10
                ),
            },
            ("button", "sections"),
        ),
    },
    ("type", "body", "action"),
    _LIST,
)
INTERACTIVE_SCHEMAS["PageInteractiveMessage"] = closed(
    {
        "type": constant("interactive"),
        "message": by_type({"button": "PageInteractiveButton", "list": "PageInteractiveList"}),
    },
    ("type", "message"),
    _INTERACTIVE,
)

#: whatsapp-message.md, "Message object types", in the page's order: the outbound ``message.type`` values.
MESSAGE_TYPES: dict[str, str] = {
    "template": "TemplateMessage",
    "text": "TextMessage",
    "image": "ImageMessage",
    "video": "VideoMessage",
    "document": "DocumentMessage",
    "audio": "AudioMessage",
    "location": "LocationMessage",
    "contacts": "ContactsMessage",
    "sticker": "PageStickerMessage",
    "interactive": "PageInteractiveMessage",
}


# --- the other pages' request bodies --------------------------------------------------------------------


# whatsapp-opt-in-and-outs.md, whatsapp-capability.md, whatsapp-blacklist-callback.md: the same table,
# "numbers: List of MSISDNs, String array, 1 to 20 elements, Required".
def numbers_body(source: str) -> Schema:
    return closed({"numbers": strings(1, 20)}, ("numbers",), source)


OTHER_SCHEMAS: dict[str, Schema] = {
    "PageMarkAsRead": closed(
        {"type": {"type": "string", "enum": ["read"]}, "message_id": text()},
        ("type", "message_id"),
        "whatsapp-callback.md § Mark inbound message as read",
    ),
    # The config tables list username/password and bearer; the samples nest them as config.basic{...} or
    # config.bearer, which is what goes on the wire: exactly one of the two.
    "PageMediaProvider": closed(
        {
            "name": PROVIDER_NAME,
            "type": {"type": "string", "enum": ["www"]},
            "config": {
                **closed(
                    {
                        "basic": closed({"username": text(), "password": text()}, ("username", "password")),
                        "bearer": text(),
                    }
                ),
                "minProperties": 1,
                "maxProperties": 1,
            },
        },
        ("name", "type", "config"),
        "whatsapp-media-provider.md § Adding/Updating a provider",
    ),
    # whatsapp-callback-store.md, "Get inbound messages endpoint": "JSON object parameters" of a GET.
    "PageInboundQuery": closed(
        {
            "start_time": text(),
            "end_time": text(),
            "from": text(),
            "page": {"type": "integer", "minimum": 1},
            "page_size": {"type": "integer", "minimum": 1},
        },
        (),
        "whatsapp-callback-store.md § Get inbound messages endpoint",
    ),
}
_STICKERPACK_FIELDS = {
    "publisher": text(),
    "name": text(),
    "ios_app_store_link": text(),
    "android_app_store_link": text(),
}
_STICKERS = "whatsapp-stickerpack-management.md § "
OTHER_SCHEMAS.update(
    {
        "PageStickerpackCreate": closed(_STICKERPACK_FIELDS, ("publisher", "name"), _STICKERS + "Create stickerpack"),
        "PageStickerpackUpdate": closed(_STICKERPACK_FIELDS, (), _STICKERS + "Update stickerpack"),
        # "emojis: Each emoji should be a single character. Three emojis maximum."
        "PageStickerCreate": closed(
            {"url": text(), "emojis": strings(None, 3)}, ("url",), _STICKERS + "Create sticker"
        ),
        "PageStickerUpdate": closed({"url": text(), "emojis": strings(None, 3)}, (), _STICKERS + "Update sticker"),
    }
)


# --- page rules that are prose, not table columns -------------------------------------------------------


@dataclass(frozen=True)
class PageRule:
    """A rule of a page for one message type: ``check(message)`` yields ``(where, problem)`` pairs."""

    name: str
    message_type: str
    source: str
    check: Callable[[dict[str, Any]], Iterator[tuple[str, str]]]


def _sticker_url_xor_id(message: dict[str, Any]) -> Iterator[tuple[str, str]]:
    given = [key for key in ("url", "id") if key in message]
    if len(given) != 1:
        yield "message", f"has {' and '.join(given) or 'neither url nor id'}; exactly one of url and id is allowed"


def _sticker_provider_needs_url(message: dict[str, Any]) -> Iterator[tuple[str, str]]:
    if "provider" in message and "url" not in message:
        yield "message.provider", "can only be used in combination with url, not with id"


def _template_parameter_lengths(message: dict[str, Any]) -> Iterator[tuple[str, str]]:
    # The limits count the parameters plus the template's own text, which the wire does not carry:
    # the parameters alone must already fit.
    for key, limit in (("header_params", 60), ("body_params", 1024)):
        values = message.get(key)
        if isinstance(values, list):
            total = sum(len(value) for value in values if isinstance(value, str))
            if total > limit:
                yield f"message.{key}", f"totals {total} characters; all parameters and template text share {limit}"


def _list_rows(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    inner = message.get("message")
    if not isinstance(inner, dict) or inner.get("type") != "list":
        return
    action = inner.get("action")
    sections = action.get("sections") if isinstance(action, dict) else None
    for section in sections if isinstance(sections, list) else ():
        rows = section.get("rows") if isinstance(section, dict) else None
        yield from (row for row in (rows if isinstance(rows, list) else ()) if isinstance(row, dict))


def _list_total_rows(message: dict[str, Any]) -> Iterator[tuple[str, str]]:
    total = sum(1 for _ in _list_rows(message))
    if total > 10:
        yield "message.message.action.sections", f"have {total} rows in all; at most 10 rows in all sections"


def _list_unique_row_ids(message: dict[str, Any]) -> Iterator[tuple[str, str]]:
    seen: set[Any] = set()
    for row in _list_rows(message):
        row_id = row.get("id")
        if row_id in seen:
            yield "message.message.action.sections", f"repeat row id {row_id!r}; each ID must be unique in the message"
        seen.add(row_id)


PAGE_RULES: tuple[PageRule, ...] = (
    PageRule("sticker.url-xor-id", "sticker", _section("Sticker message"), _sticker_url_xor_id),
    PageRule("sticker.provider-needs-url", "sticker", _section("Sticker message"), _sticker_provider_needs_url),
    PageRule("template.parameter-length", "template", _TEMPLATE, _template_parameter_lengths),
    PageRule("list.total-rows", "interactive", _LIST, _list_total_rows),
    PageRule("list.unique-row-ids", "interactive", _LIST, _list_unique_row_ids),
)
