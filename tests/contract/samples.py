"""The request samples of the Sinch pages, as data: each must pass the effective contract.

Copied from the pages in ``sinch-whatsapp-docs`` (page and section given with each). Two are not JSON as
printed and are repaired (``repaired`` says how). The capability page has no request sample; its
request is built from the page's table with the numbers of its response sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests import message_samples

from .validate import NO_BODY

_NUMBERS = {"numbers": ["46732001122", "46732002244"]}


@dataclass(frozen=True)
class Sample:
    page: str
    section: str
    method: str
    suffix: str  # the path after /whatsapp/v1/{bot-id}
    body: Any = NO_BODY
    query: dict[str, list[str]] | None = None
    repaired: str = ""

    @property
    def id(self) -> str:
        return f"{self.page}:{self.section}:{self.method}"


# The message samples are the builder tests' own copies (tests/message_samples.py), by section.
_MESSAGE_SAMPLES = (
    ("Template message", message_samples.TEMPLATE_SAMPLE),
    ("Template message", message_samples.TEMPLATE_RICH_TEXT_SAMPLE),
    ("Templates with buttons", message_samples.TEMPLATE_CALL_URL_SAMPLE),
    ("Templates with buttons", message_samples.TEMPLATE_QUICK_REPLY_SAMPLE),
    ("Text message", message_samples.TEXT_SAMPLE),
    ("Image message", message_samples.IMAGE_SAMPLE),
    ("Video message", message_samples.VIDEO_SAMPLE),
    ("Document message", message_samples.DOCUMENT_SAMPLE),
    ("Audio message", message_samples.AUDIO_SAMPLE),
    ("Location message", message_samples.LOCATION_SAMPLE),
    ("Contacts message", message_samples.CONTACTS_SAMPLE),
    ("Sticker message", message_samples.STICKER_SAMPLE),
    ("Interactive message / Button message", message_samples.BUTTONS_SAMPLE),
    ("Interactive message / List message", message_samples.LIST_SAMPLE),
)


SAMPLES: tuple[Sample, ...] = (
    *(
        Sample("whatsapp-message.md", section, "POST", "/messages", {"to": ["46732001122"], "message": message})
        for section, message in _MESSAGE_SAMPLES
    ),
    Sample(
        "whatsapp-examples.md",
        "Message template with quick reply button",
        "POST",
        "/messages",
        {
            "to": ["46732019282"],
            "message": {
                "type": "template",
                "template_name": "deal_offer",
                "language": "en",
                "body_params": ["John", "books", "By train", "By car", "By drone"],
                "media": {"type": "text"},
                "buttons": [
                    {"type": "quick_reply", "payload": "books train"},
                    {"type": "quick_reply", "payload": "books car"},
                    {"type": "quick_reply", "payload": "books drone"},
                ],
            },
        },
        repaired="trailing comma after buttons removed",
    ),
    Sample("whatsapp-opt-in-and-outs.md", "Opt-In endpoint", "POST", "/provision/optin", _NUMBERS),
    Sample("whatsapp-opt-in-and-outs.md", "Opt-In endpoint", "DELETE", "/provision/optin", _NUMBERS),
    Sample("whatsapp-opt-in-and-outs.md", "Opt-Out endpoint DEPRECATED", "POST", "/provision/optout", _NUMBERS),
    Sample("whatsapp-capability.md", "Capability endpoint", "GET", "/capability", _NUMBERS),
    Sample("whatsapp-capability.md", "Capability endpoint", "POST", "/capability", _NUMBERS),
    Sample(
        "whatsapp-callback.md",
        "Mark inbound message as read",
        "POST",
        "/events",
        {"type": "read", "message_id": "01E7SP2FX8E16R0X3GE8Z41VSQABGGSFATkBVvAgo61AND5uEmlo54"},
    ),
    Sample(
        "whatsapp-media-provider.md",
        "Basic authentication",
        "POST",
        "/provision/provider",
        {
            "name": "your-basic-provider",
            "type": "www",
            "config": {"basic": {"username": "user", "password": "AbCdEf123456"}},
        },
    ),
    Sample(
        "whatsapp-media-provider.md",
        "Bearer authentication",
        "POST",
        "/provision/provider",
        {"name": "your-bearer-provider", "type": "www", "config": {"bearer": "AbCdEf123456"}},
    ),
    Sample("whatsapp-media-provider.md", "Retrieving the providers list", "GET", "/provision/provider"),
    Sample("whatsapp-media-provider.md", "Deleting a provider", "DELETE", "/provision/provider/your-basic-provider"),
    Sample("whatsapp-blacklist-callback.md", "Add to blacklist endpoint", "POST", "/provision/blacklist", _NUMBERS),
    Sample(
        "whatsapp-blacklist-callback.md", "Remove from blacklist endpoint", "DELETE", "/provision/blacklist", _NUMBERS
    ),
    Sample(
        "whatsapp-blacklist-callback.md", "Get blacklist endpoint", "GET", "/provision/blacklist", query={"page": ["1"]}
    ),
    Sample(
        "whatsapp-callback-store.md",
        "Get message status updates endpoint",
        "GET",
        "/callbacks/status/01DPNXZ0WCF9XD19MH84XD0P62",
    ),
    Sample(
        "whatsapp-callback-store.md",
        "Get inbound messages endpoint",
        "GET",
        "/callbacks/notifications",
        {
            "page": 1,
            "page_size": 20,
            "from": "46732001122",
            "start_time": "2018-10-02T12:57:37.205Z",
            "end_time": "2019-10-02T12:57:37.205Z",
        },
    ),
    Sample(
        "whatsapp-stickerpack-management.md",
        "Retrieve stickerpacks",
        "GET",
        "/stickerpacks",
        query={"namespace": ["third_party"]},
    ),
    Sample(
        "whatsapp-stickerpack-management.md",
        "Create stickerpack",
        "POST",
        "/stickerpacks",
        {"publisher": "My stickerpack publisher", "name": "My stickerpack name"},
    ),
    Sample(
        "whatsapp-stickerpack-management.md",
        "Update stickerpack",
        "PATCH",
        "/stickerpacks/4316843a-874b-4530-86a2-1ab55c53cd3f",
        {"name": "My new stickerpack name"},
    ),
    Sample(
        "whatsapp-stickerpack-management.md",
        "Create sticker",
        "POST",
        "/stickerpacks/4316843a-874b-4530-86a2-1ab55c53cd3f/stickers",
        {"url": "https://example.com/sticker.webp", "emojis": ["🐥", "😃"]},
    ),
    Sample(
        "whatsapp-stickerpack-management.md",
        "Update sticker",
        "PATCH",
        "/stickerpacks/4316843a-874b-4530-86a2-1ab55c53cd3f/stickers/0",
        {"url": "https://example.com/updated_sticker.webp"},
        repaired="trailing comma after url removed",
    ),
    Sample(
        "whatsapp-stickerpack-management.md",
        "Retrieve sticker information",
        "GET",
        "/stickerpacks/4316843a-874b-4530-86a2-1ab55c53cd3f/stickers/0",
        query={"namespace": ["whatsapp"]},
    ),
    Sample(
        "whatsapp-stickerpack-management.md",
        "Delete stickerpack",
        "DELETE",
        "/stickerpacks/4316843a-874b-4530-86a2-1ab55c53cd3f",
    ),
)
