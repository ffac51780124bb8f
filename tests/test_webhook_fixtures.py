"""Every callback sample of whatsapp-callback.md (and ours) through the webhook: what each stores.

Samples reuse one message id across samples, so each test starts empty and
each fixture is judged on its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from django_sinch_whatsapp.models import (
    CallbackEvent,
    Contact,
    InboundMessage,
    MessageState,
    OutboundMessage,
    StatusEvent,
)

from .webhook_helpers import post_callback

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "callbacks"
SAMPLE_ID = "01DPNXZ0WCF9XD19MH84XD0P62"


def load(name):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def inbound(**expected):
    """Expect exactly one InboundMessage with these field values."""
    return ("inbound", expected)


# fixture -> what it must leave in the database
EXPECTED = {
    "delivery_report": ("status", {SAMPLE_ID: ["delivered"]}),
    "callback_store_status": ("status", {SAMPLE_ID: ["delivered"]}),
    "ours_every_delivery_state": (
        "status",
        {
            "01OURSSTATE000000000000001": ["queued", "dispatched", "sent", "delivered", "read"],
            "01OURSSTATE000000000000002": ["deleted"],
            "01OURSSTATE000000000000003": ["failed"],
            "01OURSSTATE000000000000004": ["no_opt_in"],
            "01OURSSTATE000000000000005": ["no_capability"],
            "01OURSSTATE000000000000006": ["some_future_state"],
        },
    ),
    "inbound_text": inbound(
        message_type="text",
        text="Hello bot I want to know something!",
        from_number="0732001122",
        replying_to_message_id="01E7Q9AVTRB5A30JD7D9ZN0HTE",
        profile="John Smith",
    ),
    "inbound_location": inbound(message_type="location", text__contains="Sinch Ideon Lund", profile="John Smith"),
    "inbound_quick_reply_button": inbound(message_type="button", text="Option 3", content__payload="some_payload"),
    "inbound_forwarded": inbound(message_type="text", forwarded=True, frequently_forwarded=False),
    "inbound_frequently_forwarded": inbound(message_type="text", frequently_forwarded=True),
    "inbound_interactive_button": inbound(message_type="interactive", text="Reply button title 1"),
    "inbound_interactive_list": inbound(message_type="interactive", text="Title"),
    "inbound_contacts": inbound(message_type="contacts", text__contains="John Smith"),
    "inbound_image": inbound(
        message_type="image", text="Fantastic headphones", content__url="http://www.example.com/img.jpg"
    ),
    "error_notification": inbound(message_type="error", text__contains="quick reply buttons"),
    "callback_store_notification": inbound(message_type="text", from_e164="+46732001122"),
    "ours_inbound_voice": inbound(message_type="voice"),
    "ours_inbound_document": inbound(message_type="document"),
    "ours_inbound_sticker": inbound(message_type="sticker"),
    "ours_inbound_referral": inbound(message_type="text", referral__isnull=False),
    "ours_inbound_unknown_type": inbound(message_type="reaction"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_through_the_webhook(client, bot, name):
    response = post_callback(client, bot, load(name))
    assert response.status_code == 200, response.content
    event = CallbackEvent.objects.get()
    assert event.processing_state == "processed", event.processing_error
    kind, expected = EXPECTED[name]
    if kind == "status":
        stored = {}
        for status in StatusEvent.objects.order_by("id"):
            stored.setdefault(status.sinch_message_id, []).append(status.state)
        assert stored == expected
        assert InboundMessage.objects.count() == 0
        return
    expected = dict(expected)
    profile = expected.pop("profile", None)
    message = InboundMessage.objects.get()
    for lookup, value in expected.items():
        assert InboundMessage.objects.filter(pk=message.pk, **{lookup: value}).exists(), (
            lookup,
            value,
            message.__dict__,
        )
    assert message.callback_id == event.pk
    if profile:
        assert Contact.objects.get(pk=message.contact_id).profile_name == profile


def test_every_fixture_file_is_covered():
    names = {path.stem for path in FIXTURES.glob("*.json")}
    not_callbacks = {"mark_read_request"}  # a request body sample, not a callback
    multi = {"ours_combined_status_and_notification", "ours_inbound_audio_and_video", "ours_partly_unreadable"}
    assert names - not_callbacks - multi == set(EXPECTED)


def test_combined_callback_updates_status_and_stores_inbound(client, bot):
    message = OutboundMessage.objects.create(
        bot=bot,
        recipient="46732001122",
        message_type="text",
        payload={},
        sinch_message_id="01OURSCOMBINEDOUTBOUND0001",
        state=MessageState.DELIVERED,
    )
    assert post_callback(client, bot, load("ours_combined_status_and_notification")).status_code == 200
    message.refresh_from_db()
    assert message.state == "read"
    reply = InboundMessage.objects.get()
    assert reply.replying_to_message_id == message.sinch_message_id
    assert Contact.objects.get(number="+46732001122").profile_name == "Anna Svensson"


def test_two_media_notifications_in_one_callback(client, bot):
    assert post_callback(client, bot, load("ours_inbound_audio_and_video")).status_code == 200
    assert sorted(InboundMessage.objects.values_list("message_type", flat=True)) == ["audio", "video"]


def test_partly_unreadable_callback_keeps_what_it_can_and_says_so(client, bot):
    assert post_callback(client, bot, load("ours_partly_unreadable")).status_code == 200
    event = CallbackEvent.objects.get()
    assert event.processing_state == "processed" and "not understood" in event.processing_error
    assert list(StatusEvent.objects.values_list("sinch_message_id", flat=True)) == ["01OURSREADABLESTATUS000001"]
    assert list(InboundMessage.objects.values_list("sinch_message_id", flat=True)) == ["01OURSREADABLEINBOUND00001"]


def test_the_same_sample_id_in_two_samples_is_kept_apart_by_kind(client, bot):
    # The page reuses 01DPNXZ0WCF9XD19MH84XD0P62 for a delivery report and inbound messages.
    assert post_callback(client, bot, load("delivery_report")).status_code == 200
    assert post_callback(client, bot, load("inbound_text")).status_code == 200
    assert StatusEvent.objects.get().sinch_message_id == SAMPLE_ID
    assert InboundMessage.objects.get().sinch_message_id == SAMPLE_ID
