"""Normalized messages -> Conversation API wire JSON, each checked against conversation-api.yaml (+ README patches)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from django_sinch_whatsapp.client import messages as build
from django_sinch_whatsapp.exceptions import MessageValidationError
from django_sinch_whatsapp.transports.conversation import wire
from tests import message_samples as samples
from tests.contract.conversation import check_body, check_request

PATH = "/v1/projects/project-1/messages:send"


def _body(message: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return wire.send_body(project_id="project-1", app_id="app-1", message=message, recipient="+46732001122", **kwargs)


# Every sample the docs give for the legacy API that the Conversation wire can carry.
CARRIED = [name for name in samples.SAMPLES if name not in ("sticker", "video")]


@pytest.mark.filterwarnings("ignore:template ttl is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", CARRIED)
def test_every_docs_sample_translates_to_a_valid_request(name: str) -> None:
    message = build.validate_message(copy.deepcopy(samples.SAMPLES[name]))
    body = _body(message, correlation_id="4711", callback_url="https://example.com/hook")
    assert check_request("POST", PATH, body) == []
    assert body["channel_priority_order"] == ["WHATSAPP"]
    assert body["correlation_id"] == body["message_metadata"] == "4711"
    assert body["recipient"] == {
        "identified_by": {"channel_identities": [{"channel": "WHATSAPP", "identity": "46732001122"}]}
    }


def test_text() -> None:
    assert _body(build.text("Hello"))["message"] == {"text_message": {"text": "Hello"}}


def test_media_without_and_with_caption_and_filename() -> None:
    assert _body(build.audio("https://example.com/a.mp3"))["message"] == {
        "media_message": {"url": "https://example.com/a.mp3"}
    }
    document = build.document("https://example.com/d.pdf", caption="Study", filename="study.pdf")
    assert _body(document)["message"] == {
        "card_message": {
            "title": "Study",
            "media_message": {"url": "https://example.com/d.pdf", "filename_override": "study.pdf"},
        }
    }
    image = _body(build.image("https://example.com/i.jpg"))
    assert image["message"] == {"media_message": {"url": "https://example.com/i.jpg"}}
    assert check_request("POST", PATH, image) == []


def test_template_parameters_follow_the_whatsapp_keys() -> None:
    message = build.template(
        "order_update",
        language="en_us",
        header_params=["Nick"],
        body_params=["one", "two"],
        buttons=[{"type": "url", "parameter": "abc"}, {"type": "quick_reply"}],
    )
    body = _body(message)
    assert body["message"] == {
        "template_message": {
            "channel_template": {
                "WHATSAPP": {
                    "template_id": "order_update",
                    "language_code": "en_US",
                    "parameters": {
                        "header[1]text": "Nick",
                        "body[1]text": "one",
                        "body[2]text": "two",
                        "button[0]url[1]text": "abc",
                        # conversation-whatsapp.md: the quick_reply payload "must be set even when empty".
                        "button[1]quick_reply[1]payload": "",
                    },
                }
            }
        }
    }
    assert check_request("POST", PATH, body) == []


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        ({"type": "image", "url": "https://e.com/i.jpg"}, {"header[1]image.link": "https://e.com/i.jpg"}),
        (
            {"type": "document", "url": "https://e.com/d.pdf", "filename": "d.pdf", "provider": "p1"},
            {
                "header[1]document.link": "https://e.com/d.pdf",
                "header[1]document.filename": "d.pdf",
                "header[1]document.provider.name": "p1",
            },
        ),
        ({"type": "video", "url": "https://e.com/v.mp4"}, {"header[1]video.link": "https://e.com/v.mp4"}),
    ],
)
def test_template_media_headers(media: dict[str, str], expected: dict[str, str]) -> None:
    body = _body(build.template("t", media=media))
    assert body["message"]["template_message"]["channel_template"]["WHATSAPP"]["parameters"] == expected
    assert check_request("POST", PATH, body) == []


@pytest.mark.parametrize(("given", "sent"), [("en", "en"), ("en_us", "en_US"), ("pt_BR", "pt_BR"), ("zh-hk", "zh_HK")])
def test_language_codes_are_sent_in_underscore_form(given: str, sent: str) -> None:
    assert wire.language_code(given) == sent


def test_location_title_and_label() -> None:
    body = _body(build.location(55.7, 13.19, name="Ideon", address="Scheelevägen 17"))
    assert body["message"] == {
        "location_message": {
            "coordinates": {"latitude": 55.7, "longitude": 13.19},
            "title": "Ideon",
            "label": "Scheelevägen 17",
        }
    }
    bare = _body(build.location(1.5, 2.5))
    assert bare["message"]["location_message"]["title"] == "1.5, 2.5"
    assert check_request("POST", PATH, bare) == []


def test_contact_card() -> None:
    info = _body(build.contacts([samples.CONTACT_CARD]))["message"]["contact_info_message"]
    assert info["name"] == {"full_name": "John Smith", "first_name": "John", "last_name": "Smith"}
    assert info["phone_numbers"] == [{"phone_number": "+1 (650) 555-1234", "type": "WORK"}]
    assert info["email_addresses"] == [{"email_address": "test@fb.com", "type": "WORK"}]
    assert info["organization"] == {"company": "WhatsApp", "department": "Design", "title": "Manager"}
    assert info["birthday"] == "2012-08-18"


def test_buttons_without_header_are_a_choice_message() -> None:
    message = build.interactive_buttons(
        "Pick one", [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}], footer="Thanks"
    )
    body = _body(message)
    assert body["message"] == {
        "choice_message": {
            "text_message": {"text": "Pick one"},
            "choices": [
                {"text_message": {"text": "A"}, "postback_data": "a"},
                {"text_message": {"text": "B"}, "postback_data": "b"},
            ],
            "message_properties": {"whatsapp_footer": "Thanks"},
        }
    }
    assert check_request("POST", PATH, body) == []


@pytest.mark.parametrize(
    "header", ["Header text", {"type": "image", "url": "https://e.com/i.jpg"}], ids=["text", "image"]
)
def test_buttons_with_a_header_are_a_card_message(header: Any) -> None:
    body = _body(build.interactive_buttons("Pick", [{"id": "a", "title": "A"}], header=header, footer="F"))
    card = body["message"]["card_message"]
    assert card["title"] == "Pick" and card["description"] == "F"
    assert card["choices"] == [{"text_message": {"text": "A"}, "postback_data": "a"}]
    if isinstance(header, str):
        assert card["message_properties"] == {"whatsapp_header": "Header text"}
    else:
        assert card["media_message"] == {"url": "https://e.com/i.jpg"}
    assert check_request("POST", PATH, body) == []


def test_list_message() -> None:
    body = _body(build.validate_message(copy.deepcopy(samples.LIST_SAMPLE)))
    assert body["message"] == {
        "list_message": {
            "title": "Body text",
            "description": "Footer text",
            "sections": [
                {
                    "title": "Section 1",
                    "items": [{"choice": {"title": "A row", "postback_data": "ID 1", "description": "Description"}}],
                },
                {
                    "title": "Section 2",
                    "items": [
                        {"choice": {"title": "Another row", "postback_data": "ID 2", "description": "Description"}}
                    ],
                },
            ],
            "message_properties": {"menu": "Press me", "whatsapp_header": "Header text"},
        }
    }


@pytest.mark.parametrize(
    ("message", "field", "words"),
    [
        (samples.STICKER_SAMPLE, "message.type", "stickers are not available"),
        (samples.VIDEO_SAMPLE, "message.provider", "media providers exist only"),
        (
            {"type": "contacts", "contacts": [samples.CONTACT_CARD, samples.CONTACT_CARD]},
            "message.contacts",
            "one contact card",
        ),
        (
            {"type": "contacts", "contacts": [{"name": {"formatted_name": "No Phone"}}]},
            "message.contacts[0].phones",
            "at least one phone",
        ),
        (
            {"type": "contacts", "contacts": [{**samples.CONTACT_CARD, "contact_image_url": "https://e.com/p.jpg"}]},
            "message.contacts[0].contact_image_url",
            "cannot be sent",
        ),
    ],
)
def test_what_the_wire_cannot_carry_is_refused_naming_the_field(
    message: dict[str, Any], field: str, words: str
) -> None:
    validated = build.validate_message(copy.deepcopy(message))
    with pytest.raises(MessageValidationError, match=words) as caught:
        _body(validated)
    assert caught.value.field == field


def test_correlation_id_limit() -> None:
    with pytest.raises(MessageValidationError, match="the limit is 128") as caught:
        _body(build.text("x"), correlation_id="x" * 129)
    assert caught.value.field == "correlation_id"


def test_event_and_capability_bodies_meet_the_contract() -> None:
    read = wire.read_event_body(project_id="p", app_id="a", message_id="01EQ", recipient="46732001122")
    assert read["event"] == {"read_message_event": {"message_id": "01EQ"}}
    assert check_request("POST", "/v1/projects/p/events:send", read) == []
    capability = wire.capability_body(project_id="p", app_id="a", recipient="+46732001122", request_id="r-1")
    assert check_request("POST", "/v1/projects/p/capability:query", capability) == []


@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        (lambda b: b["message"]["text_message"].pop("text"), "[required]"),
        (lambda b: b.update(recipeint=b.pop("recipient")), "[additionalProperties]"),
        (lambda b: b["message"].update(media_message={"url": "https://e.com"}), "[maxProperties]"),
        (lambda b: b.update(correlation_id="x" * 129), "[maxLength]"),
        (lambda b: b["recipient"].update(contact_id="c-1"), "[oneOf]"),
    ],
)
def test_the_contract_catches_broken_requests(mutate: Any, rule: str) -> None:
    body = _body(build.text("Hello"))
    mutate(body)
    assert any(v.startswith(rule) for v in check_request("POST", PATH, body))


def test_the_contract_catches_a_hyphenated_template_language() -> None:
    body = _body(build.template("t"))
    body["message"]["template_message"]["channel_template"]["WHATSAPP"]["language_code"] = "en-US"
    assert any("language_code" in v for v in check_body("SendMessageRequest", body))


def test_unknown_operation_is_a_violation() -> None:
    assert check_request("POST", "/v1/projects/p/messages:batchSend", {})[0].startswith("[unknown-operation]")
