"""The request samples of the Sinch pages, as data: each must pass the effective contract.

Copied from the pages in ``sinch-whatsapp-docs`` (page and section given with each). Two are not JSON as
printed and are repaired (``repaired`` says how). The capability page has no request sample; its
request is built from the page's table with the numbers of its response sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


SAMPLES: tuple[Sample, ...] = (
    Sample(
        "whatsapp-message.md",
        "Template message",
        "POST",
        "/messages",
        {
            "to": ["46732001122"],
            "message": {
                "type": "template",
                "template_name": "test_template",
                "language": "en",
                "body_params": ["param here"],
                "media": {"type": "text"},
            },
        },
    ),
    Sample(
        "whatsapp-message.md",
        "Template message",
        "POST",
        "/messages",
        {
            "to": ["46732001122"],
            "message": {
                "type": "template",
                "template_name": "demo_rich_text",
                "language": "en",
                "header_params": ["Nick"],
                "body_params": ["Swan Lake"],
                "media": {"type": "text"},
            },
        },
    ),
    Sample(
        "whatsapp-message.md",
        "Templates with buttons",
        "POST",
        "/messages",
        {
            "to": ["46732001122"],
            "message": {
                "type": "template",
                "template_name": "some_template_name",
                "language": "en",
                "header_params": ["a_parameter"],
                "body_params": ["some_first_parameter", "some_second_parameter"],
                "media": {
                    "type": "image",
                    "url": "https://www.example.com/some_image.jpg",
                    "provider": "some_provider_name",
                },
                "buttons": [{"type": "call"}, {"type": "url", "parameter": "some_url_parameter"}],
                "ttl": "P1D",
            },
        },
    ),
    Sample(
        "whatsapp-message.md",
        "Templates with buttons",
        "POST",
        "/messages",
        {
            "to": ["46732001122"],
            "message": {
                "type": "template",
                "template_name": "some_template_name",
                "language": "en",
                "header_params": ["some_parameter"],
                "body_params": ["some_first_parameter", "some_second_parameter"],
                "media": {"type": "text"},
                "buttons": [{"type": "quick_reply", "payload": "some_quick_reply_payload"}, {"type": "quick_reply"}],
            },
        },
    ),
    Sample(
        "whatsapp-message.md",
        "Text message",
        "POST",
        "/messages",
        {"to": ["46732001122"], "message": {"type": "text", "preview_url": False, "text": "Greetings from Sinch"}},
    ),
    Sample(
        "whatsapp-message.md",
        "Image message",
        "POST",
        "/messages",
        {
            "to": ["46732001122"],
            "message": {"type": "image", "url": "https://example.com/image.jpg", "caption": "Example Image"},
        },
    ),
    Sample(
        "whatsapp-message.md",
        "Video message",
        "POST",
        "/messages",
        {
            "to": ["46732001122"],
            "message": {
                "type": "video",
                "url": "https://example.com/video.mp4",
                "caption": "Example Video",
                "provider": "your-bearer-provider",
            },
        },
    ),
    Sample(
        "whatsapp-message.md",
        "Document message",
        "POST",
        "/messages",
        {
            "to": ["46732001122"],
            "message": {
                "type": "document",
                "url": "https://example.com",
                "caption": "Example study",
                "filename": "document.pdf",
            },
        },
    ),
    Sample(
        "whatsapp-message.md",
        "Audio message",
        "POST",
        "/messages",
        {"to": ["46732001122"], "message": {"type": "audio", "url": "https://example.com/song.mp3"}},
    ),
    Sample(
        "whatsapp-message.md",
        "Location message",
        "POST",
        "/messages",
        {
            "to": ["46732001122"],
            "message": {
                "type": "location",
                "lat": 55.7047,
                "lng": 13.191,
                "name": "Sinch Ideon Lund",
                "address": "Scheelevägen 17",
            },
        },
    ),
    Sample(
        "whatsapp-message.md",
        "Contacts message",
        "POST",
        "/messages",
        {
            "to": ["46732001122"],
            "message": {
                "type": "contacts",
                "contacts": [
                    {
                        "addresses": [
                            {
                                "city": "Menlo Park",
                                "country": "United States",
                                "country_code": "us",
                                "state": "CA",
                                "street": "1 Hacker Way",
                                "type": "HOME",
                                "zip": "94025",
                            }
                        ],
                        "birthday": "2012-08-18",
                        "emails": [{"email": "test@fb.com", "type": "WORK"}],
                        "name": {"first_name": "John", "formatted_name": "John Smith", "last_name": "Smith"},
                        "org": {"company": "WhatsApp", "department": "Design", "title": "Manager"},
                        "phones": [{"phone": "+1 (650) 555-1234", "type": "WORK", "wa_id": "16505551234"}],
                        "urls": [{"url": "https://www.facebook.com", "type": "WORK"}],
                    }
                ],
            },
        },
    ),
    Sample(
        "whatsapp-message.md",
        "Sticker message",
        "POST",
        "/messages",
        {"to": ["46732001122"], "message": {"type": "sticker", "url": "https://example.com/sticker.webp"}},
    ),
    Sample(
        "whatsapp-message.md",
        "Interactive message / Button message",
        "POST",
        "/messages",
        {
            "to": ["46732001122"],
            "message": {
                "type": "interactive",
                "message": {
                    "type": "button",
                    "header": {"type": "video", "url": "https://example.com/video.mp4"},
                    "body": {"text": "Body text"},
                    "footer": {"text": "Footer text"},
                    "action": {
                        "buttons": [
                            {"type": "reply", "title": "Title 1", "id": "Id 1"},
                            {"type": "reply", "title": "Title 2", "id": "Id 2"},
                            {"type": "reply", "title": "Title 3", "id": "Id 3"},
                        ]
                    },
                },
            },
        },
    ),
    Sample(
        "whatsapp-message.md",
        "Interactive message / List message",
        "POST",
        "/messages",
        {
            "to": ["46732001122"],
            "message": {
                "type": "interactive",
                "message": {
                    "type": "list",
                    "header": {"type": "text", "text": "Header text"},
                    "body": {"text": "Body text"},
                    "footer": {"text": "Footer text"},
                    "action": {
                        "button": "Press me",
                        "sections": [
                            {
                                "title": "Section 1",
                                "rows": [{"title": "A row", "id": "ID 1", "description": "Description"}],
                            },
                            {
                                "title": "Section 2",
                                "rows": [{"title": "Another row", "id": "ID 2", "description": "Description"}],
                            },
                        ],
                    },
                },
            },
        },
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
