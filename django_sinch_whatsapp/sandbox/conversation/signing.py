"""How Sinch signs Conversation API callbacks (docs README, "Signature"), written apart from our verifier.

The sandbox must not import Django (nor the package's transports, which do), and
an independent signer is a better check of the verifier than the verifier's own
helper.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "x-sinch-webhook-signature"
NONCE_HEADER = "x-sinch-webhook-signature-nonce"
TIMESTAMP_HEADER = "x-sinch-webhook-signature-timestamp"
ALGORITHM_HEADER = "x-sinch-webhook-signature-algorithm"


def sign_headers(secret: str, body: bytes, nonce: str, timestamp: int) -> dict[str, str]:
    """Base64 HMAC-SHA256 of ``body.nonce.timestamp`` with the webhook secret, and the other three headers."""
    signed = b".".join((body, nonce.encode("utf-8"), str(timestamp).encode("ascii")))
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()
    return {
        SIGNATURE_HEADER: base64.b64encode(digest).decode("ascii"),
        NONCE_HEADER: nonce,
        TIMESTAMP_HEADER: str(timestamp),
        ALGORITHM_HEADER: "HmacSHA256",
    }
