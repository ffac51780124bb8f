"""Normalized message -> Conversation API ``messages:send`` body (docs README "Send"; conversation-whatsapp.md).

The input is a message the builders of :mod:`django_sinch_whatsapp.client.messages`
produced (or ``validate_message`` accepted), so every legacy limit was already
checked. What cannot be said on this wire is refused here with a
``MessageValidationError`` naming the field, before any request:

==========================  ==========================================================================
normalized                  Conversation ``message``
==========================  ==========================================================================
text                        ``text_message.text`` (``preview_url`` has no counterpart: WhatsApp
                            previews links by itself)
image/video/document/audio  ``media_message`` (``url``, document ``filename`` -> ``filename_override``);
                            with a caption: ``card_message`` {``title``: caption, ``media_message``}
                            (conversation-whatsapp.md: a card without choices becomes a media
                            message with the caption); ``provider`` is refused (legacy only)
template                    ``template_message.channel_template.WHATSAPP`` {``template_id``,
                            ``language_code`` (underscore form), ``parameters``}; keys
                            ``header[1]text``, ``body[n]text`` (1-based), ``header[1]image.link``,
                            ``header[1]document.filename``, ``header[1]<kind>.provider.name``,
                            ``button[i]url[1]text``, ``button[i]quick_reply[1]payload`` (0-based,
                            the payload always present, even empty); ``ttl`` (deprecated) dropped
location                    ``location_message`` {``coordinates``, ``title`` (name, else address,
                            else the coordinates), ``label`` (address)}
contacts                    ``contact_info_message``: one card per message, at least one phone
interactive button          ``choice_message`` {``text_message``: body, ``choices``: text choices
                            with ``postback_data`` = button id, ``message_properties.whatsapp_footer``};
                            with a header: ``card_message`` {``title``: body, ``description``: footer,
                            ``media_message`` or ``message_properties.whatsapp_header``, ``choices``}
interactive list            ``list_message`` {``title``: body, ``description``: footer, ``sections``
                            of ``{"choice": {title, description, postback_data}}`` items,
                            ``message_properties`` {``menu``: button, ``whatsapp_header``}}
sticker                     refused: stickers need stickerpacks or media providers (legacy only)
==========================  ==========================================================================

Every request names one recipient (the API has no multi-recipient send),
``channel_priority_order: ["WHATSAPP"]``, and our message row id as both
``correlation_id`` and ``message_metadata``, so a delivery report can always
be matched to its row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from ...exceptions import MessageValidationError

CHANNEL = "WHATSAPP"
#: docs README, "Send": correlation_id is at most 128 characters.
CORRELATION_ID_MAX = 128
#: docs README: "One recipient per call".
RECIPIENTS_PER_REQUEST = 1

Message = dict[str, Any]


def _refuse(field: str, problem: str, **kwargs: Any) -> NoReturn:
    raise MessageValidationError(field, problem, **kwargs)


def _no_provider(media: Mapping[str, Any], path: str) -> None:
    if media.get("provider"):
        _refuse(f"{path}.provider", "media providers exist only on the standalone WhatsApp API, not on Conversation")


def language_code(language: str) -> str:
    """``en`` -> ``en``, ``en-us``/``en_us`` -> ``en_US``: WhatsApp wants the underscore form (docs README)."""
    base, _, region = language.replace("-", "_").partition("_")
    return f"{base.lower()}_{region.upper()}" if region else base.lower()


def _media_object(url: str, filename: str | None = None) -> Message:
    media: Message = {"url": url}
    if filename:
        media["filename_override"] = filename
    return media


def _text(message: Mapping[str, Any]) -> Message:
    return {"text_message": {"text": message["text"]}}


def _media(message: Mapping[str, Any]) -> Message:
    _no_provider(message, "message")
    media = _media_object(message["url"], message.get("filename"))
    caption = message.get("caption")
    if caption:
        return {"card_message": {"title": caption, "media_message": media}}
    return {"media_message": media}


def _template(message: Mapping[str, Any]) -> Message:
    parameters: dict[str, str] = {}
    for i, value in enumerate(message.get("header_params") or ()):
        parameters[f"header[{i + 1}]text"] = value
    for i, value in enumerate(message.get("body_params") or ()):
        parameters[f"body[{i + 1}]text"] = value
    media = message.get("media") or {"type": "text"}
    kind = media.get("type", "text")
    if kind != "text":
        # conversation-whatsapp.md, "Media Template": link, provider.name, document filename.
        parameters[f"header[1]{kind}.link"] = media["url"]
        if media.get("provider"):
            parameters[f"header[1]{kind}.provider.name"] = media["provider"]
        if kind == "document" and media.get("filename"):
            parameters["header[1]document.filename"] = media["filename"]
    for i, button in enumerate(message.get("buttons") or ()):
        # conversation-whatsapp.md, "Interactive Template": n is the button's index in the template.
        if button["type"] == "url" and "parameter" in button:
            parameters[f"button[{i}]url[1]text"] = button["parameter"]
        elif button["type"] == "quick_reply":
            parameters[f"button[{i}]quick_reply[1]payload"] = button.get("payload", "")
    reference: Message = {
        "template_id": message["template_name"],
        "language_code": language_code(message.get("language", "en")),
    }
    if parameters:
        reference["parameters"] = parameters
    return {"template_message": {"channel_template": {CHANNEL: reference}}}


def _location(message: Mapping[str, Any]) -> Message:
    name, address = message.get("name"), message.get("address")
    title = name or address or f"{message['lat']}, {message['lng']}"
    location: Message = {"coordinates": {"latitude": message["lat"], "longitude": message["lng"]}, "title": title}
    if name and address:
        location["label"] = address
    return {"location_message": location}


_CARD_UNSUPPORTED = {
    "ims": "instant-messaging ids",
    "contact_image_url": "a contact image",
}


def _contact_card(card: Mapping[str, Any], path: str) -> Message:
    for key, what in _CARD_UNSUPPORTED.items():
        if key in card:
            _refuse(f"{path}.{key}", f"{what} cannot be sent in the Conversation API's contact_info_message")
    name = card["name"]
    info: Message = {"name": {"full_name": name["formatted_name"]}}
    for key in ("first_name", "last_name", "middle_name", "prefix", "suffix"):
        if key in name:
            info["name"][key] = name[key]
    phones = [phone for phone in card.get("phones", ()) if phone.get("phone")]
    if not phones:
        _refuse(f"{path}.phones", "needs at least one phone number on the Conversation API", limit=1, actual=0)
    info["phone_numbers"] = [_typed({"phone_number": phone["phone"]}, phone) for phone in phones]
    if card.get("emails"):
        info["email_addresses"] = [_typed({"email_address": e["email"]}, e) for e in card["emails"] if e.get("email")]
    if card.get("addresses"):
        keys = ("street", "city", "state", "zip", "country", "country_code", "type")
        info["addresses"] = [{k: a[k] for k in keys if k in a} for a in card["addresses"]]
    if card.get("org"):
        info["organization"] = dict(card["org"])
    if card.get("urls"):
        info["urls"] = [_typed({"url": u["url"]}, u) for u in card["urls"] if u.get("url")]
    if card.get("birthday"):
        info["birthday"] = card["birthday"]
    return info


def _typed(target: Message, source: Mapping[str, Any]) -> Message:
    if source.get("type"):
        target["type"] = source["type"]
    return target


def _contacts(message: Mapping[str, Any]) -> Message:
    cards = message["contacts"]
    if len(cards) != 1:
        problem = f"has {len(cards)} cards; the Conversation API sends one contact card per message"
        _refuse("message.contacts", problem, limit=1, actual=len(cards))
    return {"contact_info_message": _contact_card(cards[0], "message.contacts[0]")}


def _choices(buttons: list[Mapping[str, Any]]) -> list[Message]:
    return [{"text_message": {"text": button["title"]}, "postback_data": button["id"]} for button in buttons]


def _buttons(inner: Mapping[str, Any]) -> Message:
    body = inner["body"]["text"]
    footer = (inner.get("footer") or {}).get("text")
    choices = _choices(inner["action"]["buttons"])
    header = inner.get("header")
    if header is None:
        choice: Message = {"text_message": {"text": body}, "choices": choices}
        if footer:
            choice["message_properties"] = {"whatsapp_footer": footer}
        return {"choice_message": choice}
    card: Message = {"title": body, "choices": choices}
    if footer:
        card["description"] = footer
    if header["type"] == "text":
        card["message_properties"] = {"whatsapp_header": header["text"]}
    else:
        _no_provider(header, "message.message.header")
        card["media_message"] = _media_object(header["url"], header.get("filename"))
    return {"card_message": card}


def _list(inner: Mapping[str, Any]) -> Message:
    action = inner["action"]
    sections = []
    for section in action["sections"]:
        items = []
        for row in section["rows"]:
            choice = {"title": row["title"], "postback_data": row["id"]}
            if row.get("description"):
                choice["description"] = row["description"]
            items.append({"choice": choice})
        sections.append({"title": section["title"], "items": items})
    listing: Message = {"title": inner["body"]["text"], "sections": sections}
    if inner.get("footer"):
        listing["description"] = inner["footer"]["text"]
    properties = {"menu": action["button"]}
    if inner.get("header"):
        properties["whatsapp_header"] = inner["header"]["text"]
    listing["message_properties"] = properties
    return {"list_message": listing}


def _interactive(message: Mapping[str, Any]) -> Message:
    inner = message["message"]
    return _buttons(inner) if inner["type"] == "button" else _list(inner)


def _sticker(message: Mapping[str, Any]) -> Message:
    _refuse("message.type", "stickers are not available on the Conversation API (stickerpacks are legacy only)")


_TRANSLATORS = {
    "text": _text,
    "image": _media,
    "video": _media,
    "document": _media,
    "audio": _media,
    "template": _template,
    "location": _location,
    "contacts": _contacts,
    "interactive": _interactive,
    "sticker": _sticker,
}


def app_message(message: Mapping[str, Any]) -> Message:
    """The Conversation ``message`` (an AppMessage) for a validated normalized message."""
    kind = message.get("type")
    if kind not in _TRANSLATORS:
        _refuse("message.type", f"is {kind!r}; the Conversation transport sends {', '.join(sorted(_TRANSLATORS))}")
    return _TRANSLATORS[kind](message)


def recipient_identity(number: str) -> str:
    """The WhatsApp channel identity: the number's digits, as the docs' samples write it."""
    return number.strip().lstrip("+")


def recipient_object(number: str) -> Message:
    """A recipient identified by its WhatsApp number (docs README: ``identified_by.channel_identities``)."""
    return {"identified_by": {"channel_identities": [{"channel": CHANNEL, "identity": recipient_identity(number)}]}}


def send_body(
    *,
    project_id: str,
    app_id: str,
    message: Mapping[str, Any],
    recipient: str,
    correlation_id: str = "",
    callback_url: str = "",
) -> Message:
    """The whole ``messages:send`` body for one recipient."""
    if len(correlation_id) > CORRELATION_ID_MAX:
        _refuse(
            "correlation_id",
            f"is {len(correlation_id)} characters; the limit is {CORRELATION_ID_MAX}",
            limit=CORRELATION_ID_MAX,
            actual=len(correlation_id),
        )
    body: Message = {
        "app_id": app_id,
        # conversation-api.yaml lists project_id as a required body member as well as in the path.
        "project_id": project_id,
        "recipient": recipient_object(recipient),
        "message": app_message(message),
        "channel_priority_order": [CHANNEL],
    }
    if correlation_id:
        body["correlation_id"] = correlation_id
        body["message_metadata"] = correlation_id
    if callback_url:
        body["callback_url"] = callback_url
    return body


def read_event_body(*, project_id: str, app_id: str, message_id: str, recipient: str) -> Message:
    """``events:send`` marking an inbound message as read (docs README, "Mark as read").

    The event goes to the contact who wrote ``message_id`` (the inbound message's id at Sinch).
    """
    return {
        "app_id": app_id,
        "project_id": project_id,
        "recipient": recipient_object(recipient),
        "event": {"read_message_event": {"message_id": message_id}},
    }


def capability_body(*, app_id: str, project_id: str, recipient: str, request_id: str) -> Message:
    """``capability:query`` for one number (docs README, "Capability"); the answer arrives by callback."""
    return {
        "app_id": app_id,
        "project_id": project_id,
        "recipient": recipient_object(recipient),
        "request_id": request_id,
    }
