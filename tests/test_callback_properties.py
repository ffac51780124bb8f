"""Properties of callback handling: order-proof, unforgeable, never a 500 on bad bodies."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from django_sinch_whatsapp.callbacks.events import StatusUpdate
from django_sinch_whatsapp.callbacks.processing import apply_status
from django_sinch_whatsapp.models import STATE_RANK, CallbackEvent, MessageState, OutboundMessage, StatusEvent

from .webhook_helpers import signed_headers, status_payload

pytestmark = pytest.mark.django_db

FORWARD = ["queued", "dispatched", "sent", "delivered", "read"]
TERMINAL = ["failed", "deleted", "no_opt_in", "no_capability"]


def expected_state(states):
    """Reference model: the highest forward state, unless a terminal state came first."""
    current = "accepted"
    for state in states:
        if current in TERMINAL:
            break
        if STATE_RANK[state] > STATE_RANK[current]:
            current = state
    return current


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    picks=st.lists(st.sampled_from(FORWARD), min_size=1, max_size=12),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_any_permutation_and_duplication_of_forward_states_ends_the_same(bot, picks, seed):
    """Whatever order and repetition, the state is the furthest one and each state is kept once."""
    OutboundMessage.objects.all().delete()
    StatusEvent.objects.all().delete()
    message = OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={}, sinch_message_id="m-prop"
    )
    order = list(picks)
    random.Random(seed).shuffle(order)
    for state in order:
        apply_status(bot, StatusUpdate(message_id="m-prop", state=state, status="success"))
    message.refresh_from_db()
    assert message.state == max(picks, key=FORWARD.index)
    assert sorted(message.status_events.values_list("state", flat=True)) == sorted(set(picks))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(states=st.lists(st.sampled_from(FORWARD + TERMINAL), min_size=1, max_size=10))
def test_terminal_states_lock_and_history_is_complete(bot, states):
    OutboundMessage.objects.all().delete()
    StatusEvent.objects.all().delete()
    message = OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={}, sinch_message_id="m-term"
    )
    for state in states:
        apply_status(bot, StatusUpdate(message_id="m-term", state=state))
    message.refresh_from_db()
    seen = list(dict.fromkeys(states))  # first arrival of each state
    assert message.state == expected_state(seen)
    assert list(message.status_events.order_by("received_at", "id").values_list("state", flat=True)) == seen


@pytest.fixture
def queued_message(bot):
    return OutboundMessage.objects.create(
        bot=bot,
        recipient="46732001122",
        message_type="text",
        payload={},
        sinch_message_id="m-flip",
        state=MessageState.QUEUED,
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(part=st.sampled_from(["body", "nonce", "signature"]), position=st.integers(min_value=0), bit=st.integers(0, 7))
def test_any_byte_flip_is_403_and_stores_nothing(client, bot, queued_message, part, position, bit):
    body = json.dumps(status_payload("m-flip", "read")).encode()
    headers = signed_headers(body, nonce="nonce-for-flip-test", encoding="hex")
    key = {
        "nonce": "HTTP_SINCH_WHATSAPP_CALLBACK_SIGNATURE_NONCE",
        "signature": "HTTP_SINCH_WHATSAPP_CALLBACK_SIGNATURE",
    }
    if part == "body":
        data = bytearray(body)
        data[position % len(data)] ^= 1 << bit
        body = bytes(data)
    else:
        value = bytearray(headers[key[part]].encode())
        index = position % len(value)
        value[index] ^= 1 << bit
        if value[index] < 0x21 or value[index] > 0x7E:  # keep it a valid header character
            value[index] = ord("A") if value[index] != ord("A") else ord("B")
        flipped = value.decode("latin-1")
        # Hex is case-insensitive: "a" -> "A" is the same signature, not a forgery.
        assume(not (part == "signature" and flipped.lower() == headers[key[part]].lower()))
        headers[key[part]] = flipped
    response = client.post(bot.callback_path, data=body, content_type="application/json", **headers)
    assert response.status_code == 403
    assert CallbackEvent.objects.count() == 0 and StatusEvent.objects.count() == 0
    queued_message.refresh_from_db()
    assert queued_message.state == "queued"


def test_500_random_non_json_bodies_are_400_never_500(client, bot):
    rng = random.Random(1234)
    for i in range(500):
        size = rng.randint(0, 300)
        body = bytes(rng.getrandbits(8) for _ in range(size))
        if i % 5 == 0:
            body = b"{" + body  # looks like JSON, is not
        try:
            json.loads(body)
            continue  # the odd valid JSON (e.g. a bare number) is not what this test is about
        except (ValueError, UnicodeDecodeError):
            pass
        response = client.post(bot.callback_path, data=body, content_type="application/json", **signed_headers(body))
        assert response.status_code == 400, (i, body[:40])
    assert CallbackEvent.objects.count() == 0


def test_json_that_is_not_an_object_is_stored_and_acknowledged(client, bot):
    for body in (b"[]", b"42", b'"text"', b"null"):
        response = client.post(bot.callback_path, data=body, content_type="application/json", **signed_headers(body))
        assert response.status_code == 200
    assert CallbackEvent.objects.filter(processing_state="uninterpreted").count() == 4
