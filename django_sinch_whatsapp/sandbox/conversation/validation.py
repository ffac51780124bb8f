"""The sandbox's check of a ``messages:send`` body: what Sinch refuses with 400 INVALID_ARGUMENT.

It follows the docs README ("Send", "WhatsApp templates") and conversation-whatsapp.md
rather than the lax YAML, and names each offending field, as Sinch's
``google.rpc.BadRequest`` details do.
"""

from __future__ import annotations

import re
from typing import Any

KINDS = (
    "text_message",
    "media_message",
    "template_message",
    "choice_message",
    "card_message",
    "carousel_message",
    "list_message",
    "location_message",
    "contact_info_message",
)
CHANNELS = (
    "WHATSAPP",
    "SMS",
    "RCS",
    "MESSENGER",
    "VIBER",
    "VIBERBM",
    "MMS",
    "INSTAGRAM",
    "TELEGRAM",
    "KAKAOTALK",
    "LINE",
    "WECHAT",
    "APPLEBC",
)
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2,4})?")
_DIGITS = re.compile(r"[0-9]{6,15}")


def _text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def send_violations(body: Any) -> list[tuple[str, str]]:
    """``(field, description)`` pairs; empty when the body would be accepted."""
    if not isinstance(body, dict):
        return [("body", "must be a JSON object")]
    problems: list[tuple[str, str]] = []
    if not _text(body.get("app_id")):
        problems.append(("app_id", "is required"))
    problems += recipient_violations(body.get("recipient"))
    message = body.get("message")
    if not isinstance(message, dict):
        problems.append(("message", "is required"))
    else:
        present = [kind for kind in message if kind in KINDS]
        unknown = [kind for kind in message if kind not in KINDS]
        if unknown:
            problems.append((f"message.{unknown[0]}", "is not a message kind"))
        if len(present) != 1:
            problems.append(("message", f"must hold exactly one of {', '.join(KINDS)}"))
        else:
            problems += _kind(present[0], message[present[0]])
    correlation = body.get("correlation_id")
    if correlation is not None and (not isinstance(correlation, str) or len(correlation) > 128):
        problems.append(("correlation_id", "must be a string of at most 128 characters"))
    order = body.get("channel_priority_order", [])
    if not isinstance(order, list) or any(channel not in CHANNELS for channel in order):
        problems.append(("channel_priority_order", "must list ConversationChannel values"))
    return problems


def recipient_violations(recipient: Any) -> list[tuple[str, str]]:
    if not isinstance(recipient, dict):
        return [("recipient", "is required")]
    if ("contact_id" in recipient) == ("identified_by" in recipient):
        return [("recipient", "must hold exactly one of contact_id, identified_by")]
    if "contact_id" in recipient:
        return [] if _text(recipient["contact_id"]) else [("recipient.contact_id", "must be a non-empty string")]
    identities = (
        (recipient["identified_by"] or {}).get("channel_identities")
        if isinstance(recipient["identified_by"], dict)
        else None
    )
    if not isinstance(identities, list) or not identities:
        return [("recipient.identified_by.channel_identities", "must list at least one identity")]
    for i, identity in enumerate(identities):
        where = f"recipient.identified_by.channel_identities[{i}]"
        if not isinstance(identity, dict) or identity.get("channel") not in CHANNELS:
            return [(f"{where}.channel", "must be a ConversationChannel")]
        if identity["channel"] == "WHATSAPP" and not _DIGITS.fullmatch(str(identity.get("identity", ""))):
            return [(f"{where}.identity", "must be the number's digits (6 to 15, no +) for WHATSAPP")]
    return []


def _kind(kind: str, value: Any) -> list[tuple[str, str]]:
    where = f"message.{kind}"
    if not isinstance(value, dict):
        return [(where, "must be an object")]
    if kind == "text_message" and not _text(value.get("text")):
        return [(f"{where}.text", "is required")]
    if kind == "media_message" and not _text(value.get("url")):
        return [(f"{where}.url", "is required")]
    if kind == "location_message":
        coordinates = value.get("coordinates") or {}
        if not all(isinstance(coordinates.get(k), (int, float)) for k in ("latitude", "longitude")):
            return [(f"{where}.coordinates", "needs latitude and longitude")]
        if not _text(value.get("title")):
            return [(f"{where}.title", "is required")]
    if kind == "template_message":
        return _template(value, where)
    if kind in ("choice_message", "card_message"):
        choices = value.get("choices", [])
        if kind == "choice_message" and (not isinstance(choices, list) or not 1 <= len(choices) <= 3):
            return [(f"{where}.choices", "must hold 1 to 3 choices")]
        if kind == "card_message" and not _text(value.get("title")):
            return [(f"{where}.title", "is required")]
    if kind == "list_message":
        if not _text(value.get("title")):
            return [(f"{where}.title", "is required")]
        sections = value.get("sections")
        if not isinstance(sections, list) or not sections or any(not s.get("items") for s in sections):
            return [(f"{where}.sections", "must hold sections with items")]
    if kind == "contact_info_message":
        if not _text((value.get("name") or {}).get("full_name")):
            return [(f"{where}.name.full_name", "is required")]
        if not value.get("phone_numbers"):
            return [(f"{where}.phone_numbers", "must hold at least one phone number")]
    return []


def _template(value: dict[str, Any], where: str) -> list[tuple[str, str]]:
    whatsapp = (value.get("channel_template") or {}).get("WHATSAPP")
    if whatsapp is None:
        if isinstance(value.get("omni_template"), dict) and _text(value["omni_template"].get("template_id")):
            return []
        return [(f"{where}.channel_template", "needs WHATSAPP (or omni_template)")]
    if not _text(whatsapp.get("template_id")):
        return [(f"{where}.channel_template.WHATSAPP.template_id", "is required")]
    language = whatsapp.get("language_code")
    if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
        return [
            (f"{where}.channel_template.WHATSAPP.language_code", "is required for WhatsApp, in underscore form (en_US)")
        ]
    parameters = whatsapp.get("parameters", {})
    if not isinstance(parameters, dict) or any(not isinstance(v, str) for v in parameters.values()):
        return [(f"{where}.channel_template.WHATSAPP.parameters", "must map keys to strings")]
    return []
