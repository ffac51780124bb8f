"""Conversation API callback signatures (conversation-callbacks.md, "Callback signature"; docs README).

Sinch signs ``raw_body + "." + nonce + "." + timestamp`` (UTF-8 bytes; the
timestamp in unix seconds, as sent) with HMAC-SHA256 and the webhook secret,
and sends the base64 digest (padding kept) in ``x-sinch-webhook-signature``.
The official SDKs check neither the timestamp nor the nonce; we refuse a
timestamp more than ``tolerance`` seconds away from now, and give the nonce
back so the caller can refuse one seen before (that needs storage, which
lives above the seam).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ...callbacks.signature import SignatureError

SIGNATURE_HEADER = "x-sinch-webhook-signature"
NONCE_HEADER = "x-sinch-webhook-signature-nonce"
TIMESTAMP_HEADER = "x-sinch-webhook-signature-timestamp"
ALGORITHM_HEADER = "x-sinch-webhook-signature-algorithm"
ALGORITHM = "HmacSHA256"
HEADERS = (SIGNATURE_HEADER, NONCE_HEADER, TIMESTAMP_HEADER, ALGORITHM_HEADER)
DEFAULT_TOLERANCE = 300


@dataclass(frozen=True)
class WebhookSignature:
    """The four headers of a signed callback, as sent."""

    signature: str
    nonce: str
    timestamp: str
    algorithm: str

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> WebhookSignature | None:
        """The headers, None when none is present; ``SignatureError`` when only some are."""
        lowered = {str(k).lower(): v for k, v in headers.items()}
        signature, nonce, timestamp, algorithm = (lowered.get(name) or "" for name in HEADERS)
        if not (signature or nonce or timestamp or algorithm):
            return None
        # conversation-callbacks.md lists the algorithm header; accept its absence as HmacSHA256
        # (the only algorithm Sinch uses) but not the absence of the three signed parts.
        missing = [name for name, value in zip(HEADERS[:3], (signature, nonce, timestamp), strict=True) if not value]
        if missing:
            raise SignatureError(f"incomplete signature headers: {', '.join(missing)} missing")
        return cls(signature=signature, nonce=nonce, timestamp=timestamp, algorithm=algorithm or ALGORITHM)


def signed_bytes(raw_body: bytes, nonce: str, timestamp: str) -> bytes:
    return raw_body + b"." + nonce.encode("utf-8") + b"." + timestamp.encode("utf-8")


def compute_signature(secret: str | bytes, raw_body: bytes, nonce: str, timestamp: str) -> str:
    """The header value Sinch sends (the sandbox and tests use it to sign)."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    digest = hmac.new(key, signed_bytes(raw_body, nonce, timestamp), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_headers(secret: str, raw_body: bytes, nonce: str, timestamp: int | str) -> dict[str, str]:
    """The four headers for ``raw_body``, as Sinch would send them."""
    stamp = str(timestamp)
    return {
        SIGNATURE_HEADER: compute_signature(secret, raw_body, nonce, stamp),
        NONCE_HEADER: nonce,
        TIMESTAMP_HEADER: stamp,
        ALGORITHM_HEADER: ALGORITHM,
    }


def verify(
    headers: WebhookSignature,
    raw_body: bytes,
    keys: Iterable[tuple[str, str]],
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> str:
    """The label of the first key of ``(label, key)`` that verifies; ``SignatureError`` with a loggable reason.

    Every key is tried (two during rotation), each compared in constant time.
    """
    if headers.algorithm.replace("-", "").replace("_", "").lower() != ALGORITHM.lower():
        raise SignatureError(f"unsupported signature algorithm {headers.algorithm[:40]!r}")
    stamp = headers.timestamp.strip()
    if not stamp.isdigit():
        raise SignatureError("signature timestamp is not whole unix seconds")
    skew = abs((time.time() if now is None else now) - int(stamp))
    if skew > tolerance:
        raise SignatureError(f"signature timestamp is {int(skew)} s away from now; the tolerance is {int(tolerance)} s")
    try:
        given = base64.b64decode(headers.signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature is not base64") from None
    if base64.b64encode(given).decode("ascii") != headers.signature.strip():
        # Lenient decoding ignores the last character's unused bits: only the canonical form is Sinch's.
        raise SignatureError("signature is not canonical base64")
    matched_label = None
    for label, key in keys:
        expected = base64.b64decode(compute_signature(key, raw_body, headers.nonce, headers.timestamp))
        # No early exit: the time taken does not tell which key (or whether any) matched.
        if hmac.compare_digest(expected, given) and matched_label is None:
            matched_label = label
    if matched_label is None:
        raise SignatureError("signature does not match")
    return matched_label
