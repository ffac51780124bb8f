"""Callback signatures (whatsapp-callback.md, "Signature").

Sinch computes HMAC-SHA256 with the bot's key over ``payload.nonce``: the raw
body bytes, a dot, the nonce. The page does not say how the digest is encoded,
so both hex and base64 are accepted, each compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

SIGNATURE_HEADER = "sinch-whatsapp-callback-signature"
ALGORITHM_HEADER = "sinch-whatsapp-callback-signature-algorithm"
NONCE_HEADER = "sinch-whatsapp-callback-signature-nonce"
ALGORITHM = "HMAC_SHA_256"


class SignatureError(Exception):
    """The callback is not signed as it must be; the reason is safe to log."""


@dataclass(frozen=True)
class SignatureHeaders:
    signature: str
    algorithm: str
    nonce: str

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> SignatureHeaders | None:
        """The three headers, or None when the callback carries none of them."""
        lowered = {k.lower(): v for k, v in headers.items()}
        values = [lowered.get(SIGNATURE_HEADER), lowered.get(ALGORITHM_HEADER), lowered.get(NONCE_HEADER)]
        if not any(values):
            return None
        if not all(values):
            raise SignatureError("incomplete signature headers")
        return cls(signature=values[0] or "", algorithm=values[1] or "", nonce=values[2] or "")


def compute_digest(key: str | bytes, body: bytes, nonce: str) -> bytes:
    key_bytes = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(key_bytes, body + b"." + nonce.encode("utf-8"), hashlib.sha256).digest()


def sign(key: str | bytes, body: bytes, nonce: str, *, encoding: str = "base64") -> str:
    """The header value Sinch would send; used by the sandbox and tests."""
    digest = compute_digest(key, body, nonce)
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")


def _decodings(signature: str) -> list[bytes]:
    candidates: list[bytes] = []
    text = signature.strip()
    if len(text) == 64:
        try:
            candidates.append(bytes.fromhex(text))
        except ValueError:
            pass
    try:
        candidates.append(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError):
        pass
    return candidates


def verify(headers: SignatureHeaders, body: bytes, keys: Iterable[tuple[str, str]]) -> str:
    """Return the label of the key that verifies ``body``; raise SignatureError otherwise."""
    if headers.algorithm.strip().upper() != ALGORITHM:
        raise SignatureError(f"unsupported signature algorithm {headers.algorithm[:40]!r}")
    candidates = _decodings(headers.signature)
    if not candidates:
        raise SignatureError("signature is neither hex nor base64")
    for label, key in keys:
        expected = compute_digest(key, body, headers.nonce)
        matched = False
        for candidate in candidates:
            # Compare every candidate so timing does not reveal which decoding matched.
            matched |= hmac.compare_digest(expected, candidate)
        if matched:
            return label
    raise SignatureError("signature does not match")
