"""The docs' own message samples: the ``message`` member of each JSON block in whatsapp-message.md
(and whatsapp-examples.md), shared by the builder tests and the contract tests."""

from __future__ import annotations

TEXT_SAMPLE = {"type": "text", "preview_url": False, "text": "Greetings from Sinch"}
TEMPLATE_SAMPLE = {
    "type": "template",
    "template_name": "test_template",
    "language": "en",
    "body_params": ["param here"],
    "media": {"type": "text"},
}
TEMPLATE_RICH_TEXT_SAMPLE = {
    "type": "template",
    "template_name": "demo_rich_text",
    "language": "en",
    "header_params": ["Nick"],
    "body_params": ["Swan Lake"],
    "media": {"type": "text"},
}
TEMPLATE_CALL_URL_SAMPLE = {
    "type": "template",
    "template_name": "some_template_name",
    "language": "en",
    "header_params": ["a_parameter"],
    "body_params": ["some_first_parameter", "some_second_parameter"],
    "media": {"type": "image", "url": "https://www.example.com/some_image.jpg", "provider": "some_provider_name"},
    "buttons": [{"type": "call"}, {"type": "url", "parameter": "some_url_parameter"}],
    "ttl": "P1D",
}
TEMPLATE_QUICK_REPLY_SAMPLE = {
    "type": "template",
    "template_name": "some_template_name",
    "language": "en",
    "header_params": ["some_parameter"],
    "body_params": ["some_first_parameter", "some_second_parameter"],
    "media": {"type": "text"},
    "buttons": [{"type": "quick_reply", "payload": "some_quick_reply_payload"}, {"type": "quick_reply"}],
}
# whatsapp-examples.md (its block has a trailing comma; repaired here)
TEMPLATE_DEAL_OFFER_SAMPLE = {
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
}
IMAGE_SAMPLE = {"type": "image", "url": "https://example.com/image.jpg", "caption": "Example Image"}
VIDEO_SAMPLE = {
    "type": "video",
    "url": "https://example.com/video.mp4",
    "caption": "Example Video",
    "provider": "your-bearer-provider",
}
DOCUMENT_SAMPLE = {
    "type": "document",
    "url": "https://example.com",
    "caption": "Example study",
    "filename": "document.pdf",
}
AUDIO_SAMPLE = {"type": "audio", "url": "https://example.com/song.mp3"}
LOCATION_SAMPLE = {
    "type": "location",
    "lat": 55.7047,
    "lng": 13.191,
    "name": "Sinch Ideon Lund",
    "address": "Scheelevägen 17",
}
CONTACT_CARD = {
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
CONTACTS_SAMPLE = {"type": "contacts", "contacts": [CONTACT_CARD]}
STICKER_SAMPLE = {"type": "sticker", "url": "https://example.com/sticker.webp"}
BUTTONS_SAMPLE = {
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
}
LIST_SAMPLE = {
    "type": "interactive",
    "message": {
        "type": "list",
        "header": {"type": "text", "text": "Header text"},
        "body": {"text": "Body text"},
        "footer": {"text": "Footer text"},
        "action": {
            "button": "Press me",
            "sections": [
                {"title": "Section 1", "rows": [{"title": "A row", "id": "ID 1", "description": "Description"}]},
                {"title": "Section 2", "rows": [{"title": "Another row", "id": "ID 2", "description": "Description"}]},
            ],
        },
    },
}

SAMPLES = {
    "text": TEXT_SAMPLE,
    "template": TEMPLATE_SAMPLE,
    "template_rich_text": TEMPLATE_RICH_TEXT_SAMPLE,
    "template_call_url": TEMPLATE_CALL_URL_SAMPLE,
    "template_quick_reply": TEMPLATE_QUICK_REPLY_SAMPLE,
    "template_deal_offer": TEMPLATE_DEAL_OFFER_SAMPLE,
    "image": IMAGE_SAMPLE,
    "video": VIDEO_SAMPLE,
    "document": DOCUMENT_SAMPLE,
    "audio": AUDIO_SAMPLE,
    "location": LOCATION_SAMPLE,
    "contacts": CONTACTS_SAMPLE,
    "sticker": STICKER_SAMPLE,
    "interactive_buttons": BUTTONS_SAMPLE,
    "interactive_list": LIST_SAMPLE,
}
