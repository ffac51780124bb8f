"""Conversation API webhook signatures: the docs README's test vector, tampering, staleness, rotation."""

from __future__ import annotations

import base64

import pytest

from django_sinch_whatsapp.callbacks.signature import SignatureError
from django_sinch_whatsapp.transports.conversation import signature as sig

# sinch-conversation-docs README.md, "Signature": the recomputed test vector, body bytes exactly as given.
SECRET = "foo_secret1234"
NONCE = "01FJA8B4A7BM43YGWSG9GBV067"
TIMESTAMP = "1634579353"
BODY = (
    b'{"app_id":"01EB37HMH1M6SV18BSNS3G135H","accepted_time":"2020-11-17T15:09:11.659Z",'
    b'"project_id":"c36f3d3d-1513-2edd-ae42-11995557ff61","message_delivery_report":'
    b'{"message_id":"01EQBC1A3BEK731GY4YXEN0C2R","conversation_id":"01EPYATA64TMNZ1FV02JKF12JF",'
    b'"status":"QUEUED_ON_CHANNEL","contact_id":"01EXA07N79THJ20WSN6AS30TMW"}}'
)
EXPECTED = "Yc+3R1pIS78xLASybulhs8BsSo9BPB3Pr92QCUoczfk="
NOW = float(TIMESTAMP) + 10


def _headers(**overrides: str) -> dict[str, str]:
    headers = {
        "X-Sinch-Webhook-Signature": EXPECTED,
        "X-Sinch-Webhook-Signature-Nonce": NONCE,
        "X-Sinch-Webhook-Signature-Timestamp": TIMESTAMP,
        "X-Sinch-Webhook-Signature-Algorithm": "HmacSHA256",
    }
    headers.update(overrides)
    return headers


def _verify(headers: dict[str, str], body: bytes = BODY, keys=(("current", SECRET),), now: float = NOW) -> str:
    found = sig.WebhookSignature.from_headers(headers)
    assert found is not None
    return sig.verify(found, body, keys, now=now)


def test_docs_test_vector_signs_and_verifies() -> None:
    assert sig.compute_signature(SECRET, BODY, NONCE, TIMESTAMP) == EXPECTED
    assert _verify(_headers()) == "current"


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("index", [0, 1, 57, len(BODY) // 2, len(BODY) - 2, len(BODY) - 1])
def test_any_byte_flip_in_the_body_fails(index: int) -> None:
    with pytest.raises(SignatureError, match="does not match"):
        _verify(_headers(), body=_flip(BODY, index))


@pytest.mark.parametrize("index", range(len(NONCE)))
def test_any_byte_flip_in_the_nonce_fails(index: int) -> None:
    with pytest.raises(SignatureError):
        _verify(_headers(**{"X-Sinch-Webhook-Signature-Nonce": _flip(NONCE.encode(), index).decode()}))


@pytest.mark.parametrize("index", range(len(TIMESTAMP)))
def test_any_digit_change_in_the_timestamp_fails(index: int) -> None:
    digits = list(TIMESTAMP)
    digits[index] = str((int(digits[index]) + 1) % 10)
    changed = "".join(digits)
    # The clock is set to the changed timestamp, so only the signature can refuse it.
    with pytest.raises(SignatureError, match="does not match"):
        _verify(_headers(**{"X-Sinch-Webhook-Signature-Timestamp": changed}), now=float(changed))


@pytest.mark.parametrize("index", range(32))
def test_any_bit_flip_in_the_signature_fails(index: int) -> None:
    raw = base64.b64decode(EXPECTED)
    tampered = base64.b64encode(_flip(raw, index)).decode()
    with pytest.raises(SignatureError, match="does not match"):
        _verify(_headers(**{"X-Sinch-Webhook-Signature": tampered}))


@pytest.mark.parametrize("offset", [-600, 600, -301, 301])
def test_timestamps_outside_the_tolerance_fail(offset: int) -> None:
    with pytest.raises(SignatureError, match="tolerance is 300 s"):
        _verify(_headers(), now=float(TIMESTAMP) - offset)


@pytest.mark.parametrize("offset", [-300, 0, 299])
def test_timestamps_within_the_tolerance_pass(offset: int) -> None:
    assert _verify(_headers(), now=float(TIMESTAMP) - offset) == "current"


def test_tolerance_is_configurable() -> None:
    found = sig.WebhookSignature.from_headers(_headers())
    assert found is not None
    with pytest.raises(SignatureError, match="tolerance is 5 s"):
        sig.verify(found, BODY, [("k", SECRET)], tolerance=5, now=NOW)


def test_two_keys_during_rotation() -> None:
    assert _verify(_headers(), keys=[("new", "another-secret"), ("old", SECRET)]) == "old"
    with pytest.raises(SignatureError):
        _verify(_headers(), keys=[("new", "another-secret")])


@pytest.mark.parametrize(
    ("missing", "reason"),
    [
        ("X-Sinch-Webhook-Signature", "x-sinch-webhook-signature missing"),
        ("X-Sinch-Webhook-Signature-Nonce", "nonce missing"),
        ("X-Sinch-Webhook-Signature-Timestamp", "timestamp missing"),
    ],
)
def test_incomplete_headers_are_refused(missing: str, reason: str) -> None:
    headers = _headers()
    del headers[missing]
    with pytest.raises(SignatureError, match=reason):
        sig.WebhookSignature.from_headers(headers)


def test_no_headers_means_unsigned() -> None:
    assert sig.WebhookSignature.from_headers({"Content-Type": "application/json"}) is None


@pytest.mark.parametrize(
    ("header", "value", "reason"),
    [
        ("X-Sinch-Webhook-Signature-Algorithm", "HmacSHA1", "unsupported signature algorithm"),
        ("X-Sinch-Webhook-Signature-Timestamp", "16345793.53", "not whole unix seconds"),
        ("X-Sinch-Webhook-Signature", "not base64!", "not base64"),
    ],
)
def test_malformed_headers_are_refused(header: str, value: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        _verify(_headers(**{header: value}))


def test_sign_headers_round_trip() -> None:
    headers = sig.sign_headers("s3cret", b'{"a":1}', "nonce-1", 1700000000)
    assert _verify(headers, body=b'{"a":1}', keys=[("k", "s3cret")], now=1700000000) == "k"


def test_the_sandbox_signs_like_the_docs_test_vector() -> None:
    from django_sinch_whatsapp.sandbox.conversation.signing import sign_headers

    headers = sign_headers(SECRET, BODY, NONCE, int(TIMESTAMP))
    assert headers["x-sinch-webhook-signature"] == EXPECTED
    assert _verify(headers) == "current"
