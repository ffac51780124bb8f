"""The per-bot webhook of a Conversation bot: its transport's signature scheme, stored first, applied once.

The rules both transports share (reports move states forward only, inbound messages open the window,
signals once, replays answered without reprocessing) run for both in tests/test_webhook.py and
tests/test_window.py; here is what is the Conversation API's own."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from django_sinch_whatsapp.models import CallbackEvent, Contact, InboundMessage, MessageState, OutboundMessage
from django_sinch_whatsapp.sandbox.conversation.signing import sign_headers
from tests.conversation_helpers import APP, PROJECT, WEBHOOK_SECRET, conversation_bot_values

pytestmark = pytest.mark.django_db


@pytest.fixture
def bot(make_bot, sandbox):
    return make_bot(**conversation_bot_values(sandbox))


def _report(message_id: str, status: str, correlation_id: str = "") -> bytes:
    payload = {
        "app_id": APP,
        "project_id": PROJECT,
        "accepted_time": "2026-01-01T10:00:00Z",
        "message_delivery_report": {
            "message_id": message_id,
            "conversation_id": "CONV1",
            "status": status,
            "contact_id": "CONTACT1",
            "channel_identity": {"channel": "WHATSAPP", "identity": "46732001122", "app_id": APP},
        },
    }
    if correlation_id:
        payload["correlation_id"] = correlation_id
    return json.dumps(payload, separators=(",", ":")).encode()


def _inbound(message_id: str, text: str) -> bytes:
    from django.utils import timezone

    now = timezone.now().isoformat().replace("+00:00", "Z")
    payload = {
        "app_id": APP,
        "project_id": PROJECT,
        "accepted_time": "2026-01-01T10:00:00Z",
        "message": {
            "id": message_id,
            "direction": "TO_APP",
            "contact_message": {"text_message": {"text": text}},
            "channel_identity": {"channel": "WHATSAPP", "identity": "46732001122", "app_id": APP},
            "conversation_id": "CONV1",
            "contact_id": "CONTACT1",
            "accept_time": now,
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def _post(
    bot, body: bytes, *, nonce: str = "NONCE-1", timestamp: int | None = None, secret: str = WEBHOOK_SECRET, tamper=None
):
    headers = sign_headers(secret, body, nonce, int(time.time()) if timestamp is None else timestamp)
    if tamper:
        body, headers = tamper(body, headers)
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return Client().post(bot.callback_path, data=body, content_type="application/json", **extra)


def _flip(data: str | bytes, index: int = 5):
    raw = bytearray(data.encode() if isinstance(data, str) else data)
    raw[index] ^= 0x01
    return bytes(raw) if isinstance(data, bytes) else raw.decode()


@pytest.mark.parametrize(
    "where",
    ["body", "nonce", "timestamp", "signature"],
)
def test_any_flipped_byte_is_403_and_nothing_stored(bot, where):
    def tamper(body, headers):
        headers = dict(headers)
        if where == "body":
            return _flip(body, 10), headers
        name = {
            "nonce": "x-sinch-webhook-signature-nonce",
            "timestamp": "x-sinch-webhook-signature-timestamp",
            "signature": "x-sinch-webhook-signature",
        }[where]
        headers[name] = _flip(headers[name], len(headers[name]) - 2)
        return body, headers

    response = _post(bot, _report("MSG1", "DELIVERED"), tamper=tamper)
    assert response.status_code == 403, response.content
    assert not CallbackEvent.objects.exists()


@pytest.mark.parametrize("offset", [-600, 600])
def test_a_timestamp_ten_minutes_off_is_403(bot, offset):
    response = _post(bot, _report("MSG1", "DELIVERED"), timestamp=int(time.time()) + offset)
    assert response.status_code == 403
    assert not CallbackEvent.objects.exists()


def test_the_legacy_scheme_is_not_accepted_for_a_conversation_bot(bot):
    body = _report("MSG1", "DELIVERED")
    response = Client().post(bot.callback_path, data=body, content_type="application/json")
    assert response.status_code == 403
    assert not CallbackEvent.objects.exists()


def test_a_replayed_nonce_is_processed_once(bot):
    from django_sinch_whatsapp import signals

    received = []

    def on_inbound(sender, **kwargs):
        received.append(kwargs)

    signals.inbound_message_received.connect(on_inbound)
    try:
        body = _inbound("IN1", "Hello")
        assert _post(bot, body, nonce="N-REPLAY").status_code == 200
        again = _post(bot, body, nonce="N-REPLAY")
    finally:
        signals.inbound_message_received.disconnect(on_inbound)
    assert again.status_code == 200 and again.json()["detail"] == "Already received."
    assert CallbackEvent.objects.count() == 1 and InboundMessage.objects.count() == 1
    assert len(received) == 1


def test_a_report_whose_send_answer_was_lost_is_matched_by_correlation_id(bot):
    row = OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={}, state=MessageState.UNKNOWN
    )
    assert _post(bot, _report("MSG-LOST", "DELIVERED", correlation_id=str(row.pk))).status_code == 200
    row.refresh_from_db()
    assert row.sinch_message_id == "MSG-LOST" and row.state == MessageState.DELIVERED


@pytest.mark.parametrize(
    "payload",
    [
        # conversation-optin.md: UNSPECIFIED means the channel has no opt-in: kept, nothing to apply.
        {
            "opt_in_notification": {
                "contact_id": "C",
                "identity": "46732001122",
                "channel": "WHATSAPP",
                "status": "OPT_IN_STATUS_UNSPECIFIED",
                "request_id": "R1",
            }
        },
        {"capability_notification": {"identity": "user@example.com", "channel": "MESSENGER", "request_id": "R2"}},
        {
            "event": {
                "direction": "TO_APP",
                "contact_event": {"composing_event": {}},
                "channel_identity": {"channel": "WHATSAPP", "identity": "46732001122"},
            }
        },
        {"something_new": {"x": 1}},
    ],
)
def test_other_triggers_are_stored_and_surfaced_never_a_5xx(bot, payload):
    body = json.dumps({"app_id": APP, "project_id": PROJECT, **payload}).encode()
    response = _post(bot, body)
    assert response.status_code == 200, response.content
    event = CallbackEvent.objects.get()
    assert event.processing_error  # says what was kept without being applied
    assert not Contact.objects.exists()


def test_a_signature_differing_only_in_unused_base64_bits_is_refused(bot):
    """Found by the byte-flip test: '...A=' and '...B=' decode alike when the last bits are padding."""

    def tamper(body, headers):
        headers = dict(headers)
        signature = headers["x-sinch-webhook-signature"]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        index = alphabet.index(signature[-2])
        headers["x-sinch-webhook-signature"] = signature[:-2] + alphabet[index ^ 0x01] + "="
        return body, headers

    response = _post(bot, _report("MSG1", "DELIVERED"), tamper=tamper)
    assert response.status_code == 403 and not CallbackEvent.objects.exists()
