"""The documented limits, message types and language codes the validators check against."""

from __future__ import annotations

from typing import NamedTuple

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
# Each lower-cased spelling maps to the table's own, which is what is sent.
_LANGUAGES = {code.lower(): code for code in LANGUAGE_CODES}
