"""parse_callback against the docs' own samples (tests/fixtures/callbacks) and beyond.

No database: parsing is pure Python. Runs with or without pytest-django.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_sinch_whatsapp.callbacks.events import (
    CallbackParseError,
    InboundNotification,
    ParsedCallback,
    StatusUpdate,
)
from django_sinch_whatsapp.callbacks.parsing import DELIVERY_STATES, parse_callback, parse_timestamp

FIXTURES = Path(__file__).parent / "fixtures" / "callbacks"
# The docs reuse these ids across samples (DESIGN.md, "Wire notes").
DOCS_MESSAGE_ID = "01DPNXZ0WCF9XD19MH84XD0P62"
DOCS_REPLIED_TO_ID = "01E7Q9AVTRB5A30JD7D9ZN0HTE"

#: Fixture file name -> the test that makes specific assertions about it.
COVERED: dict[str, Callable[..., None]] = {}


def covers(*names: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def register(test: Callable[..., None]) -> Callable[..., None]:
        for name in names:
            COVERED[name] = test
        return test

    return register


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def parse(name: str) -> ParsedCallback:
    return parse_callback(load(name))


def only_notification(parsed: ParsedCallback) -> InboundNotification:
    assert parsed.unreadable == []
    assert len(parsed.notifications) == 1
    return parsed.notifications[0]


def at(*args: int, microsecond: int = 0) -> datetime:
    return datetime(*args, microsecond=microsecond, tzinfo=UTC)


# --- every file is checked -------------------------------------------------


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda path: path.name)
def test_every_fixture_file_has_specific_assertions(path: Path) -> None:
    assert path.name in COVERED, f"{path.name} has no test: add one decorated with @covers({path.name!r})"
    payload = json.loads(path.read_text(encoding="utf-8"))
    if path.name == "mark_read_request.json":
        with pytest.raises(CallbackParseError):
            parse_callback(payload)
        return
    parsed = parse_callback(payload)
    assert parsed.raw is payload
    assert parsed.statuses or parsed.notifications


def test_every_covered_name_is_a_fixture_file_and_readme_lists_it() -> None:
    files = {path.name for path in FIXTURES.glob("*.json")}
    assert set(COVERED) == files
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    missing = sorted(name for name in files if f"`{name}`" not in readme)
    assert missing == []


def test_docs_samples_share_one_message_id() -> None:
    # Why fixtures must never be keyed by message id: the page reuses it.
    users = [
        path.name for path in sorted(FIXTURES.glob("*.json")) if DOCS_MESSAGE_ID in path.read_text(encoding="utf-8")
    ]
    assert len(users) >= 10
    ids = {update.message_id for update in parse("delivery_report.json").statuses}
    ids |= {notification.message_id for notification in parse("inbound_text.json").notifications}
    assert ids == {DOCS_MESSAGE_ID}


# --- samples from whatsapp-callback.md --------------------------------------


@covers("delivery_report.json")
def test_delivery_report() -> None:
    payload = load("delivery_report.json")
    parsed = parse_callback(payload)
    assert parsed.contacts == [] and parsed.notifications == [] and parsed.unreadable == []
    assert parsed.statuses == [
        StatusUpdate(
            message_id=DOCS_MESSAGE_ID,
            state="delivered",
            status="success",
            details="",
            recipient="+46732001122",
            recipient_e164="+46732001122",
            timestamp=at(2020, 5, 2, 18, 40, 42),
        )
    ]
    assert parsed.statuses[0].raw is payload["statuses"][0]


@covers("inbound_text.json")
def test_inbound_text() -> None:
    payload = load("inbound_text.json")
    parsed = parse_callback(payload)
    assert parsed.statuses == []
    [contact] = parsed.contacts
    assert (contact.wa_id, contact.wa_id_e164, contact.profile_name) == ("0732001122", "0732001122", "John Smith")
    assert contact.raw is payload["contacts"][0]
    notification = only_notification(parsed)
    assert notification.message_id == DOCS_MESSAGE_ID
    # A local-format number cannot become E.164 without a country: kept raw, never dropped.
    assert notification.from_number == "0732001122"
    assert notification.from_e164 == "0732001122"
    assert notification.to == "sinchbot"
    assert notification.message_type == "text"
    assert notification.known_type is True
    assert notification.text == "Hello bot I want to know something!"
    assert notification.message == {"type": "text", "body": "Hello bot I want to know something!"}
    assert notification.profile_name == "John Smith"
    assert notification.replying_to_message_id == DOCS_REPLIED_TO_ID
    assert notification.replying_to_from == "447537817391"
    assert notification.forwarded is False and notification.frequently_forwarded is False
    assert notification.referral is None
    assert notification.timestamp == at(2020, 5, 2, 19, 48, 42)
    assert notification.is_error is False
    assert notification.interactive_type == ""
    assert notification.raw is payload["notifications"][0]


@covers("inbound_location.json")
def test_inbound_location() -> None:
    notification = only_notification(parse("inbound_location.json"))
    assert notification.message_type == "location"
    assert notification.text == "Sinch Ideon Lund, Scheelevägen 17"
    assert notification.message["latitude"] == 55.7047
    assert notification.message["longitude"] == 13.191
    assert notification.profile_name == "John Smith"
    assert notification.replying_to_message_id == ""
    assert notification.timestamp == at(2020, 5, 2, 19, 40, 52)


@covers("inbound_quick_reply_button.json")
def test_inbound_quick_reply_button() -> None:
    parsed = parse("inbound_quick_reply_button.json")
    assert parsed.contacts == []
    notification = only_notification(parsed)
    assert notification.message_type == "button"
    assert notification.interactive_type == ""
    assert notification.text == "Option 3"
    assert notification.message["index"] == "2"
    assert notification.message["payload"] == "some_payload"
    # No contacts in this sample: no profile name to match.
    assert notification.profile_name == ""
    assert notification.replying_to_message_id == DOCS_REPLIED_TO_ID
    assert notification.replying_to_from == "447537817391"
    assert notification.timestamp == at(2020, 5, 7, 10, 2, 10)


@covers("inbound_forwarded.json")
def test_inbound_forwarded() -> None:
    notification = only_notification(parse("inbound_forwarded.json"))
    assert notification.forwarded is True
    assert notification.frequently_forwarded is False
    assert notification.text == "Hello bot I want to know something!"
    assert notification.profile_name == "John Smith"
    assert notification.timestamp == at(2020, 5, 2, 17, 43, 32)


@covers("inbound_frequently_forwarded.json")
def test_inbound_frequently_forwarded() -> None:
    notification = only_notification(parse("inbound_frequently_forwarded.json"))
    assert notification.frequently_forwarded is True
    assert notification.forwarded is False
    assert notification.timestamp == at(2020, 5, 3, 7, 28, 54)


@covers("inbound_interactive_button.json")
def test_inbound_interactive_button() -> None:
    notification = only_notification(parse("inbound_interactive_button.json"))
    assert notification.message_type == "interactive"
    assert notification.interactive_type == "button"
    assert notification.text == "Reply button title 1"
    assert notification.message["message"]["id"] == "Reply button id 1"
    assert notification.known_type is True
    assert notification.replying_to_message_id == DOCS_REPLIED_TO_ID
    assert notification.timestamp == at(2021, 6, 7, 13, 38, 36)


@covers("inbound_interactive_list.json")
def test_inbound_interactive_list() -> None:
    notification = only_notification(parse("inbound_interactive_list.json"))
    assert notification.message_type == "interactive"
    assert notification.interactive_type == "list"
    assert notification.text == "Title"
    assert notification.message["message"] == {
        "type": "list",
        "id": "ID 1",
        "title": "Title",
        "description": "Description",
    }


@covers("inbound_contacts.json")
def test_inbound_contacts_card() -> None:
    notification = only_notification(parse("inbound_contacts.json"))
    assert notification.message_type == "contacts"
    assert notification.text == "John Smith"
    [card] = notification.message["contacts"]
    assert card["org"] == {"company": "WhatsApp", "department": "Design", "title": "Manager"}
    assert card["phones"] == [{"phone": "+1 (650) 555-1234", "type": "WORK", "wa_id": "16505551234"}]
    assert card["addresses"][0]["city"] == "Menlo Park"
    assert card["birthday"] == "2012-08-18"
    assert notification.profile_name == "John Smith"
    assert notification.timestamp == at(2020, 5, 2, 17, 23, 55)


@covers("inbound_image.json")
def test_inbound_image() -> None:
    notification = only_notification(parse("inbound_image.json"))
    assert notification.message_type == "image"
    assert notification.media_url == "http://www.example.com/img.jpg"
    assert notification.message["mime_type"] == "image/jpeg"
    assert notification.text == "Fantastic headphones"
    assert notification.timestamp == at(2020, 5, 2, 15, 43, 52)


@covers("error_notification.json")
def test_error_notification() -> None:
    notification = only_notification(parse("error_notification.json"))
    assert notification.is_error is True
    assert notification.known_type is True
    assert notification.message_id == "01E7T5K8CREY9K0HGZW3ME1F26ABGGRnAiI1JfAhC5kP7rPIamw3JHBDfxEzvm"
    assert notification.text.startswith("Unexpected callback contents received.")
    assert notification.from_number == "46702291874"
    assert notification.from_e164 == "+46702291874"
    assert notification.to == "bot_id"
    # The sample's replying_to has a sender but no message id.
    assert notification.replying_to_message_id == ""
    assert notification.replying_to_from == "447537918329"
    assert notification.timestamp == at(2020, 5, 8, 12, 54, 7)


@covers("mark_read_request.json")
def test_mark_read_request_is_not_a_callback() -> None:
    with pytest.raises(CallbackParseError, match="read"):
        parse("mark_read_request.json")


# --- samples from whatsapp-callback-store.md -------------------------------


@covers("callback_store_status.json")
def test_callback_store_status() -> None:
    [update] = parse("callback_store_status.json").statuses
    assert (update.message_id, update.state, update.status) == (DOCS_MESSAGE_ID, "delivered", "success")
    assert update.recipient_e164 == "+46732001122"
    assert update.timestamp is None


@covers("callback_store_notification.json")
def test_callback_store_notification() -> None:
    notification = only_notification(parse("callback_store_notification.json"))
    assert notification.from_number == "46732001122"
    assert notification.from_e164 == "+46732001122"
    assert notification.text == "Hello bot I want to know something!"
    assert notification.timestamp is None


# --- ours --------------------------------------------------------------------


@covers("ours_combined_status_and_notification.json")
def test_combined_status_and_notification() -> None:
    parsed = parse("ours_combined_status_and_notification.json")
    assert parsed.unreadable == []
    [update] = parsed.statuses
    assert (update.state, update.recipient_e164) == ("read", "+46732001122")
    assert update.timestamp == at(2024, 3, 1, 9, 15, 0, microsecond=250000)
    [contact] = parsed.contacts
    assert contact.wa_id_e164 == "+46732001122"
    notification = only_notification(parsed)
    # wa_id "+46732001122" and from "46732001122" are the same number once normalized.
    assert notification.from_number == "46732001122"
    assert notification.profile_name == "Anna Svensson"
    assert notification.replying_to_message_id == update.message_id
    assert notification.timestamp == at(2024, 3, 1, 9, 15, 5)


@covers("ours_every_delivery_state.json")
def test_every_delivery_state() -> None:
    parsed = parse("ours_every_delivery_state.json")
    assert parsed.unreadable == []
    states = [update.state for update in parsed.statuses]
    assert set(states) == DELIVERY_STATES | {"some_future_state"}
    assert len(states) == 10
    by_state = {update.state: update for update in parsed.statuses}
    assert by_state["queued"].timestamp == at(2024, 3, 1, 9, 0, 0)
    assert by_state["dispatched"].timestamp == at(2024, 3, 1, 9, 0, 1, microsecond=500000)
    assert by_state["sent"].timestamp == at(2024, 3, 1, 9, 0, 2)
    assert by_state["delivered"].timestamp == at(2024, 3, 1, 9, 0, 3, microsecond=123456)
    assert by_state["read"].timestamp == at(2024, 3, 1, 9, 0, 4)
    assert by_state["deleted"].timestamp is None  # "yesterday"
    assert by_state["deleted"].recipient == "46732002244"
    assert by_state["deleted"].recipient_e164 == "+46732002244"
    failed = by_state["failed"]
    assert (failed.status, failed.details) == ("failure", "Message expired")
    assert by_state["no_opt_in"].timestamp is None  # missing
    assert by_state["no_opt_in"].details == "Recipient has not opted in"
    no_capability = by_state["no_capability"]
    assert no_capability.timestamp is None  # null
    assert (no_capability.recipient, no_capability.recipient_e164) == ("not-a-number", "not-a-number")
    assert by_state["some_future_state"].status == "success"
    for update in parsed.statuses:
        assert update.timestamp is None or update.timestamp.tzinfo is not None


@covers("ours_inbound_voice.json")
def test_inbound_voice() -> None:
    notification = only_notification(parse("ours_inbound_voice.json"))
    assert notification.message_type == "voice"
    assert notification.media_url == "https://media.example.com/voice/01OURSVOICE.ogg"
    assert notification.message["mime_type"] == "audio/ogg; codecs=opus"
    assert notification.text == ""
    assert notification.known_type is True


@covers("ours_inbound_document.json")
def test_inbound_document() -> None:
    notification = only_notification(parse("ours_inbound_document.json"))
    assert notification.message_type == "document"
    assert notification.text == "invoice-2024-03.pdf"
    assert notification.message["mime_type"] == "application/pdf"
    assert (notification.from_number, notification.from_e164) == ("+46732001122", "+46732001122")


@covers("ours_inbound_audio_and_video.json")
def test_inbound_audio_and_video() -> None:
    parsed = parse("ours_inbound_audio_and_video.json")
    audio, video = parsed.notifications
    assert (audio.message_type, audio.text, audio.media_url) == (
        "audio",
        "interview.mp3",
        "https://media.example.com/audio/interview.mp3",
    )
    assert (video.message_type, video.text, video.message["mime_type"]) == ("video", "Unboxing", "video/mp4")


@covers("ours_inbound_sticker.json")
def test_inbound_sticker_with_metadata() -> None:
    notification = only_notification(parse("ours_inbound_sticker.json"))
    assert notification.message_type == "sticker"
    assert notification.text == ""
    assert notification.media_url == "https://media.example.com/stickers/cool-cat.webp"
    metadata = notification.message["metadata"]
    assert metadata["stickerpack-id"] == "cool-cats-1"
    assert metadata["stickerpack-name"] == "Cool Cats"
    assert metadata["emojis"] == ["😺", "😎"]
    assert metadata["is-first-party-sticker"] == 0


@covers("ours_inbound_referral.json")
def test_inbound_referral() -> None:
    notification = only_notification(parse("ours_inbound_referral.json"))
    assert notification.text == "Is the spring offer still on?"
    assert notification.profile_name == "Anna Svensson"
    assert notification.referral is not None
    assert notification.referral["source_type"] == "ad"
    assert notification.referral["headline"] == "Spring offer"
    assert notification.referral["referral_media"] == {
        "type": "image",
        "url": "https://media.example.com/ads/spring-offer.jpg",
    }


@covers("ours_inbound_unknown_type.json")
def test_inbound_unknown_type() -> None:
    notification = only_notification(parse("ours_inbound_unknown_type.json"))
    assert notification.message_type == "reaction"
    assert notification.known_type is False
    assert notification.text == ""
    assert notification.message["emoji"] == "👍"
    assert notification.message_id == "01OURSUNKNOWNTYPE000000001"


@covers("ours_partly_unreadable.json")
def test_partly_unreadable() -> None:
    payload = load("ours_partly_unreadable.json")
    parsed = parse_callback(payload)
    assert [update.message_id for update in parsed.statuses] == ["01OURSREADABLESTATUS000001"]
    assert [contact.profile_name for contact in parsed.contacts] == ["Anna Svensson"]
    assert [notification.text for notification in parsed.notifications] == ["readable"]
    assert parsed.notifications[0].profile_name == "Anna Svensson"
    assert parsed.unreadable == [
        payload["statuses"][1],
        payload["statuses"][2],
        "not an object",
        payload["contacts"][0],
        payload["notifications"][0],
        42,
    ]


# --- unreadable entries, inline ----------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        {"state": "delivered"},
        {"message_id": "abc"},
        {"message_id": "", "state": "delivered"},
        {"message_id": "abc", "state": "  "},
        {"message_id": None, "state": "delivered"},
        {"message_id": {"id": "abc"}, "state": "delivered"},
        {"message_id": "abc", "state": ["delivered"]},
        "abc",
        None,
        ["abc", "delivered"],
    ],
)
def test_unreadable_status(entry: Any) -> None:
    parsed = parse_callback({"type": "whatsapp", "statuses": [entry]})
    assert parsed.statuses == []
    assert parsed.unreadable == [entry]


@pytest.mark.parametrize(
    "entry",
    [{"from": "46732001122", "message": {"type": "text", "body": "hi"}}, {"message_id": ""}, 7, None, []],
)
def test_unreadable_notification(entry: Any) -> None:
    parsed = parse_callback({"type": "whatsapp", "notifications": [entry]})
    assert parsed.notifications == []
    assert parsed.unreadable == [entry]


def test_unreadable_contact_and_non_list_sections() -> None:
    payload = {"type": "whatsapp", "contacts": [{"profile": {"name": "x"}}], "statuses": {"state": "read"}}
    parsed = parse_callback(payload)
    assert parsed.contacts == [] and parsed.statuses == []
    assert parsed.unreadable == [{"state": "read"}, {"profile": {"name": "x"}}]


def test_null_sections_are_empty() -> None:
    parsed = parse_callback({"type": "whatsapp", "statuses": None, "notifications": None})
    assert parsed == ParsedCallback()


def test_type_may_be_absent() -> None:
    [update] = parse_callback({"statuses": [{"message_id": "m1", "state": "sent"}]}).statuses
    assert (update.message_id, update.state, update.status, update.recipient_e164, update.timestamp) == (
        "m1",
        "sent",
        "",
        "",
        None,
    )


def test_notification_with_odd_fields_is_still_read() -> None:
    entry = {
        "message_id": "m1",
        "from": 46732001122,
        "message": "not an object",
        "replying_to": "x",
        "referral": ["x"],
        "forwarded": "true",
        "timestamp": 1588444122,
    }
    notification = only_notification(parse_callback({"notifications": [entry]}))
    assert notification.message == {} and notification.message_type == "" and notification.known_type is False
    assert (notification.from_number, notification.from_e164) == ("46732001122", "+46732001122")
    assert notification.replying_to_message_id == "" and notification.referral is None
    assert notification.forwarded is False and notification.timestamp is None


@pytest.mark.parametrize(
    ("message", "interactive_type", "text"),
    [
        ({"type": "location", "latitude": 55.7047, "longitude": 13.191}, "", "55.7047, 13.191"),
        ({"type": "location", "address": "Scheelevägen 17"}, "", "Scheelevägen 17"),
        (
            {"type": "contacts", "contacts": [{"name": {"first_name": "Ann", "last_name": "Li"}}, {"name": {}}]},
            "",
            "Ann Li",
        ),
        (
            {"type": "contacts", "contacts": [{"name": {"formatted_name": "A"}}, {"name": {"formatted_name": "B"}}]},
            "",
            "A, B",
        ),
        ({"type": "image", "caption": "c", "filename": "f"}, "", "c"),
        ({"type": "interactive", "message": "oops"}, "", ""),
        ({"type": "interactive", "message": {"type": "nfm_reply", "title": "t"}}, "nfm_reply", "t"),
        ({"type": "error"}, "", ""),
    ],
)
def test_summary_text(message: dict[str, Any], interactive_type: str, text: str) -> None:
    notification = only_notification(parse_callback({"notifications": [{"message_id": "m", "message": message}]}))
    assert (notification.interactive_type, notification.text) == (interactive_type, text)


def test_profile_name_matches_only_the_same_number() -> None:
    payload = {
        "contacts": [
            {"wa_id": "46732001122", "profile": {"name": "Anna"}},
            {"wa_id": "+46732002244", "profile": {}},
        ],
        "notifications": [
            {"message_id": "m1", "from": "+46 73 200 11 22", "message": {"type": "text", "body": "a"}},
            {"message_id": "m2", "from": "46732002244", "message": {"type": "text", "body": "b"}},
            {"message_id": "m3", "from": "46732003366", "message": {"type": "text", "body": "c"}},
        ],
    }
    names = [notification.profile_name for notification in parse_callback(payload).notifications]
    assert names == ["Anna", "", ""]


# --- not a callback ------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "whatsapp",
        42,
        [],
        [{"type": "whatsapp", "statuses": []}],
        {},
        {"type": "whatsapp"},
        {"results": [{"type": "whatsapp", "statuses": []}]},
        {"type": "sms", "statuses": []},
        {"type": "WhatsApp", "statuses": []},
        {"type": None, "notifications": []},
        {"type": "read", "message_id": "01E7SP2FX8E16R0X3GE8Z41VSQABGGSFATkBVvAgo61AND5uEmlo54"},
    ],
)
def test_not_a_callback(payload: Any) -> None:
    with pytest.raises(CallbackParseError):
        parse_callback(payload)


# --- timestamps ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-05-02T18:40:42Z", at(2020, 5, 2, 18, 40, 42)),
        ("2020-05-02t18:40:42z", at(2020, 5, 2, 18, 40, 42)),
        ("2018-10-02T12:57:37.205Z", at(2018, 10, 2, 12, 57, 37, microsecond=205000)),
        ("2020-05-02T18:40:42.1234567891Z", at(2020, 5, 2, 18, 40, 42, microsecond=123456)),
        ("2020-05-02T20:40:42+02:00", at(2020, 5, 2, 18, 40, 42)),
        ("2020-05-02T13:40:42-0500", at(2020, 5, 2, 18, 40, 42)),
        ("2020-05-02 18:40:42+00:00", at(2020, 5, 2, 18, 40, 42)),
        ("2020-05-02T18:40:42", at(2020, 5, 2, 18, 40, 42)),
        ("2020-05-02", None),
        ("2020-13-02T18:40:42Z", None),
        ("2020-05-02T18:40:42+25:00", None),
        ("0001-01-01T00:00:00+01:00", None),
        ("yesterday at noon", None),
        ("", None),
        (1588444842, None),
        (None, None),
    ],
)
def test_parse_timestamp(value: Any, expected: datetime | None) -> None:
    result = parse_timestamp(value)
    assert result == expected
    if result is not None:
        assert result.utcoffset() == timedelta(0)


# --- property: never anything but CallbackParseError ------------------------------

WIRE_KEYS = [
    "type",
    "statuses",
    "contacts",
    "notifications",
    "status",
    "state",
    "message_id",
    "details",
    "recipient",
    "timestamp",
    "wa_id",
    "profile",
    "name",
    "from",
    "to",
    "message",
    "body",
    "caption",
    "filename",
    "title",
    "text",
    "latitude",
    "longitude",
    "address",
    "formatted_name",
    "first_name",
    "last_name",
    "replying_to",
    "referral",
    "forwarded",
    "frequently_forwarded",
]
WIRE_WORDS = ["whatsapp", "text", "location", "contacts", "button", "interactive", "list", "error", "image", "sticker"]
WIRE_WORDS += ["delivered", "0732001122", "+46732001122", "46732001122", "2020-05-02T18:40:42Z", "2020-05-02T99:00"]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(WIRE_WORDS)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(WIRE_KEYS) | st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=30,
)
callback_shaped = st.dictionaries(
    st.sampled_from(["type", "statuses", "contacts", "notifications", "results"]),
    st.sampled_from(["whatsapp"]) | st.lists(json_values, max_size=4) | json_values,
    max_size=5,
)


def count_entries(payload: dict[str, Any]) -> int:
    total = 0
    for key in ("statuses", "contacts", "notifications"):
        value = payload.get(key)
        total += 0 if value is None else len(value) if isinstance(value, list) else 1
    return total


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, callback_shaped))
def test_parse_callback_never_raises_anything_else(payload: Any) -> None:
    try:
        parsed = parse_callback(payload)
    except CallbackParseError:
        return
    # Nothing is lost: every entry is either parsed or kept as unreadable.
    parsed_count = len(parsed.statuses) + len(parsed.contacts) + len(parsed.notifications)
    assert parsed_count + len(parsed.unreadable) == count_entries(payload)
    for notification in parsed.notifications:
        assert notification.message_id and isinstance(notification.text, str)
    for update in parsed.statuses:
        assert update.message_id and update.state
