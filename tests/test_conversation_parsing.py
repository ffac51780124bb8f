"""Every callback sample of the Conversation docs parses into normalized events; no valid JSON raises."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from django_sinch_whatsapp.callbacks.events import InboundNotification, ParsedCallback, StatusUpdate
from django_sinch_whatsapp.transports import get_transport
from django_sinch_whatsapp.transports.conversation.parsing import STATE_BY_STATUS, parse_callback
from django_sinch_whatsapp.transports.events import (
    CapabilityNotification,
    ConsentNotification,
    ConversationCallback,
    ConversationStatusUpdate,
)
from tests.contract.conversation import docs_dir
from tests.test_conversation_signature import BODY as README_VECTOR_BODY

PAGES = ("conversation-callbacks.md", "conversation-whatsapp.md", "conversation-optin.md")
UNREAD_TRIGGERS = {
    "event_delivery_report",
    "conversation_start_notification",
    "conversation_stop_notification",
    "contact_create_notification",
    "contact_delete_notification",
    "contact_merge_notification",
    "unsupported_callback",
}


def _samples() -> list[tuple[str, dict]]:
    """Each ```json block of the pages that is a callback (it names an app and no recipient)."""
    found = []
    for page in PAGES:
        for index, block in enumerate(re.findall(r"```json\n(.*?)```", (docs_dir() / page).read_text(), re.S)):
            data = json.loads(block)
            if isinstance(data, dict) and "app_id" in data and "recipient" not in data:
                found.append((f"{page}#{index}", data))
    found.append(("README.md#signature-test-vector", json.loads(README_VECTOR_BODY)))
    return found


SAMPLES = _samples()


def test_the_docs_have_the_samples_we_expect() -> None:
    assert len(SAMPLES) == 14 + 6 + 2 + 1


@pytest.mark.parametrize(("where", "payload"), SAMPLES, ids=[where for where, _ in SAMPLES])
def test_every_docs_callback_sample_parses(where: str, payload: dict) -> None:
    parsed = parse_callback(payload)
    assert isinstance(parsed, ConversationCallback) and isinstance(parsed, ParsedCallback)
    assert parsed.raw == payload
    trigger = next(key for key, value in payload.items() if isinstance(value, dict))
    assert parsed.trigger == trigger
    if trigger == "message_delivery_report":
        [status] = parsed.statuses
        assert isinstance(status, StatusUpdate)
        assert status.message_id == payload[trigger]["message_id"]
        assert status.state == STATE_BY_STATUS[payload[trigger]["status"]] or status.state == "no_opt_in"
        assert status.timestamp is not None
    elif trigger == "message":
        [inbound] = parsed.notifications
        assert isinstance(inbound, InboundNotification)
        assert inbound.message_id == payload["message"]["id"]
        assert inbound.from_number == payload["message"]["channel_identity"]["identity"]
        assert inbound.known_type
        [contact] = parsed.contacts
        assert contact.raw["contact_id"] == payload["message"]["contact_id"]
    elif trigger == "capability_notification":
        [capability] = parsed.capabilities
        assert capability.capable and capability.request_id
    elif trigger in ("opt_in_notification", "opt_out_notification"):
        [consent] = parsed.consents
        assert consent.kind == trigger[: -len("_notification")] and consent.succeeded
    elif trigger == "event":
        [event] = parsed.app_events
        assert event.event_type == "composing_event"
    else:
        assert trigger in UNREAD_TRIGGERS
        assert parsed.unreadable == [payload]
    if trigger not in UNREAD_TRIGGERS:
        assert parsed.unreadable == []


def _sample(page: str, key: str, **match: str) -> dict:
    for where, payload in SAMPLES:
        if where.startswith(page) and key in payload and all(payload[key].get(k) == v for k, v in match.items()):
            return payload
    raise LookupError((page, key, match))


def test_failed_report_keeps_the_reason() -> None:
    payload = _sample("conversation-callbacks.md", "message_delivery_report", status="FAILED")
    [status] = parse_callback(payload).statuses
    assert isinstance(status, ConversationStatusUpdate)
    assert (status.state, status.status) == ("failed", "FAILED")
    assert status.details.startswith("OUTSIDE_ALLOWED_SENDING_WINDOW/UNSPECIFIED_SUB_CODE: The underlying channel")
    assert status.reason["code"] == "OUTSIDE_ALLOWED_SENDING_WINDOW"
    assert (status.recipient, status.recipient_e164) == ("12345678910", "+12345678910")
    assert status.timestamp == datetime(2020, 11, 17, 16, 1, 7, tzinfo=UTC)


def test_read_without_delivered_and_whatsapp_identity_with_plus() -> None:
    payload = _sample("conversation-whatsapp.md", "message_delivery_report")
    [status] = parse_callback(payload).statuses
    assert status.state == "read"
    assert (status.recipient, status.recipient_e164) == ("+46702471483", "+46702471483")


def test_messenger_identities_are_not_phone_numbers() -> None:
    [status] = parse_callback(
        _sample("conversation-callbacks.md", "message_delivery_report", status="QUEUED_ON_CHANNEL")
    ).statuses
    assert status.state == "dispatched"
    assert status.recipient == "2734085512340733" and status.recipient_e164 == ""


@pytest.mark.parametrize(
    ("status", "code", "state"),
    [
        ("QUEUED_ON_CHANNEL", None, "dispatched"),
        ("DELIVERED", None, "delivered"),
        ("READ", None, "read"),
        ("FAILED", "RATE_LIMITED", "failed"),
        ("FAILED", "RECIPIENT_NOT_OPTED_IN", "no_opt_in"),
        ("SWITCHING_CHANNEL", "CHANNEL_FAILURE", "queued"),
        ("SOMETHING_NEW", None, "something_new"),
    ],
)
def test_state_mapping(status: str, code: str | None, state: str) -> None:
    report: dict = {"message_id": "M1", "status": status, "metadata": "row-5"}
    if code:
        report["reason"] = {"code": code, "description": "why"}
    [update] = parse_callback({"app_id": "A", "message_delivery_report": report, "correlation_id": "row-5"}).statuses
    assert update.state == state and update.status == status
    assert update.correlation_id == "row-5"


def test_correlation_falls_back_to_the_metadata() -> None:
    [update] = parse_callback(
        {"app_id": "A", "message_delivery_report": {"message_id": "M", "status": "READ", "metadata": "42"}}
    ).statuses
    assert update.correlation_id == "42"


def _inbound(page: str, content_key: str) -> InboundNotification:
    for where, payload in SAMPLES:
        if where.startswith(page) and content_key in (payload.get("message") or {}).get("contact_message", {}):
            [notification] = parse_callback(payload).notifications
            return notification
    raise LookupError(content_key)


def test_inbound_text_from_whatsapp() -> None:
    inbound = _inbound("conversation-whatsapp.md", "text_message")
    assert (inbound.message_type, inbound.text) == ("text", "Hi from contact")
    assert inbound.message["body"] == "Hi from contact"
    assert (inbound.from_number, inbound.from_e164) == ("46712312312", "+46712312312")
    assert inbound.timestamp == datetime(2020, 6, 22, 10, 55, 39, 521500, tzinfo=UTC)


def test_inbound_media_and_media_card() -> None:
    media = _inbound("conversation-whatsapp.md", "media_message")
    assert media.message_type == "image" and media.media_url.endswith("Sinch-logo-Events.png")
    card = _inbound("conversation-whatsapp.md", "media_card_message")
    assert card.message_type == "image" and card.text == "caption text" and card.message["caption"] == "caption text"


def test_inbound_location() -> None:
    location = _inbound("conversation-whatsapp.md", "location_message")
    assert location.message_type == "location"
    assert location.message["latitude"] == 55.727802 and location.message["name"] == "ICA Jägaren"
    assert location.text == "ICA Jägaren"


def test_inbound_choice_response_names_our_button_and_the_message_it_answers() -> None:
    choice = _inbound("conversation-whatsapp.md", "choice_response_message")
    assert (choice.message_type, choice.interactive_type) == ("interactive", "choice")
    assert choice.message["message"]["id"] == "email_postback"
    assert choice.replying_to_message_id == "01EBDTZ9SN8HTW092K56PH1GDS"


def test_reply_to_and_the_receive_a_message_fields() -> None:
    # conversation-receive-a-message.md has no JSON sample; its webhook reads
    # message.contact_message.text_message.text and message.contact_id: both are kept.
    payload = {
        "app_id": "A",
        "message": {
            "id": "IN1",
            "direction": "TO_APP",
            "contact_message": {"text_message": {"text": "yes"}, "reply_to": {"message_id": "OUT7"}},
            "channel_identity": {"channel": "WHATSAPP", "identity": "46732001122", "app_id": ""},
            "contact_id": "C1",
        },
    }
    parsed = parse_callback(payload)
    [inbound] = parsed.notifications
    assert inbound.text == "yes" and inbound.replying_to_message_id == "OUT7"
    assert parsed.contacts[0].raw["contact_id"] == "C1"


@pytest.mark.parametrize(
    ("content", "message_type"),
    [
        ({"fallback_message": {"raw_message": "??", "reason": {"code": "UNKNOWN"}}}, "fallback"),
        ({"product_response_message": {"products": []}}, "product_response_message"),
    ],
)
def test_unknown_inbound_kinds_are_kept_not_refused(content: dict, message_type: str) -> None:
    payload = {"app_id": "A", "message": {"id": "X", "contact_message": content, "channel_identity": {"identity": "1"}}}
    [inbound] = parse_callback(payload).notifications
    assert inbound.message_type == message_type and inbound.known_type is False


def test_capability_no_capability_and_consent_failure() -> None:
    [capability] = parse_callback(
        {
            "app_id": "A",
            "capability_notification": {
                "identity": "46700000009",
                "channel": "WHATSAPP",
                "capability_status": "NO_CAPABILITY",
                "request_id": "r1",
                "reason": {"code": "RECIPIENT_NOT_REACHABLE"},
            },
        }
    ).capabilities
    assert isinstance(capability, CapabilityNotification)
    assert capability.capable is False and capability.identity_e164 == "+46700000009"
    [consent] = parse_callback(
        {
            "app_id": "A",
            "opt_in_notification": {
                "identity": "1",
                "status": "OPT_IN_FAILED",
                "error_details": {"description": "nope"},
            },
        }
    ).consents
    assert isinstance(consent, ConsentNotification)
    assert consent.succeeded is False and consent.error_code == "nope"
    assert consent.failed is True  # refused: undone on the contact (not merely unspecified)


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        3,
        "text",
        {},
        {"app_id": "A"},
        {"message_delivery_report": {}},
        {"message_delivery_report": {"message_id": 5, "status": None}},
        {"message": {"id": "X"}},
        {"message": {"id": "X", "contact_message": {"text_message": "not an object"}}},
        {"message": {"id": "X", "direction": "TO_CONTACT", "contact_message": {"text_message": {"text": "echo"}}}},
        {"capability_notification": {}},
        {"event": {"contact_event": []}},
    ],
)
def test_odd_valid_json_never_raises(payload) -> None:
    parsed = parse_callback(payload)
    assert isinstance(parsed, ConversationCallback)
    assert (
        parsed.statuses or parsed.notifications or parsed.unreadable or parsed.app_events or parsed.capabilities == []
    )


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
_KEYS = st.sampled_from(
    ["message_delivery_report", "message", "event", "capability_notification", "opt_in_notification", "x"]
)


@settings(max_examples=300, deadline=None)
@given(
    key=_KEYS,
    entry=st.dictionaries(
        st.sampled_from(
            [
                "message_id",
                "status",
                "id",
                "contact_message",
                "reason",
                "channel_identity",
                "metadata",
                "capability_status",
            ]
        ),
        _JSON,
        max_size=6,
    ),
)
def test_any_json_under_any_trigger_never_raises(key: str, entry: dict) -> None:
    parse_callback({"app_id": "A", key: entry})


def test_the_transport_parses_and_says_which_headers_it_signs_with() -> None:
    transport = get_transport("conversation")()
    assert transport.signature_present({"X-Sinch-Webhook-Signature": "x"})
    assert not transport.signature_present({"Sinch-WhatsApp-Callback-Signature": "x"})
    parsed = transport.parse_callback(json.loads(README_VECTOR_BODY))
    assert parsed.statuses[0].state == "dispatched"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-11-17T15:09:13.267185123Z", datetime(2020, 11, 17, 15, 9, 13, 267185, tzinfo=UTC)),
        ("2020-11-17T15:09:13Z", datetime(2020, 11, 17, 15, 9, 13, tzinfo=UTC)),
        ("2020-11-17T15:09:13.5+01:00", datetime(2020, 11, 17, 14, 9, 13, 500000, tzinfo=UTC)),
        ("not a time", None),
    ],
)
def test_timestamps(text: str, expected: datetime | None) -> None:
    [update] = parse_callback(
        {"app_id": "A", "event_time": text, "message_delivery_report": {"message_id": "M", "status": "READ"}}
    ).statuses
    assert update.timestamp == expected
