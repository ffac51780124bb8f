"""Identifiers, nonces and timestamps in the shapes the Sinch WhatsApp API uses."""

from __future__ import annotations

import os
import secrets
import time
from datetime import UTC, datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_message_id() -> str:
    """A 26-character ULID-like id (48 bits of milliseconds, 80 random bits, Crockford base32).

    whatsapp-message.md shows ids like ``01DPNXZ0WCF9XD19MH84XD0P62``.
    """
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_nonce() -> str:
    """A fresh random nonce for one signed callback (whatsapp-callback.md, "Signature")."""
    return secrets.token_urlsafe(24)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_timestamp(moment: datetime | None = None) -> str:
    """ISO-8601 in UTC with a ``Z`` and whole seconds, as in the page samples (``2020-05-02T18:40:42Z``)."""
    moment = moment or utc_now()
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse an ISO-8601 date or datetime; naive values are taken as UTC. Raises ValueError."""
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed
