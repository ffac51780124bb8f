"""Who may post to a bot's webhook: the bot's transport checks its own signature scheme.

Nothing here knows a scheme: :func:`verify_callback` asks the bot's transport
whether the callback is signed, for its nonce and to verify it, and applies the
same rules to every transport (signing keys, ``REQUIRE_SIGNED_CALLBACKS``, the
key fingerprint and nonce kept for replay detection).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.crypto import salted_hmac

from ..conf import app_settings
from ..models import Bot, SignatureVerdict
from .signature import SignatureError

if TYPE_CHECKING:
    from ..transports.base import Transport

#: The salt of :func:`key_fingerprint`; changing it breaks replay detection of stored nonces.
FINGERPRINT_SALT = "django_sinch_whatsapp.callback-key-fingerprint"


@dataclass(frozen=True)
class Verification:
    """What a verified callback carries for storage: never the key itself."""

    verdict: str
    key_label: str
    key_fingerprint: str
    nonce: str


def key_fingerprint(key: str) -> str:
    """A keyed digest (HMAC with SECRET_KEY) of a signing key: equal keys, equal fingerprints; not reversible.

    Keyed so a leaked database does not allow guessing weak keys offline.
    """
    return salted_hmac(FINGERPRINT_SALT, key, algorithm="sha256").hexdigest()


def verify_callback(
    bot: Bot, headers: Mapping[str, str], body: bytes, *, transport: Transport | None = None
) -> Verification:
    """Verify a callback with the bot's transport's own scheme; raises :class:`SignatureError` (safe to show).

    Each transport owns its headers and algorithm (the standalone API's
    ``sinch-whatsapp-callback-signature``, whatsapp-callback.md; the Conversation
    API's ``x-sinch-webhook-signature`` with its timestamp tolerance) behind
    :meth:`~django_sinch_whatsapp.transports.base.Transport.verify_signature`;
    what is decided here is the same for all: a bot with a signing key takes only
    signed callbacks, one without takes unsigned ones only when
    ``REQUIRE_SIGNED_CALLBACKS`` is off, and the nonce goes to the one replay check.
    ``transport``: the bot's, where the caller has it already.
    """
    if transport is None:
        from ..clients import verifier_for_bot

        transport = verifier_for_bot(bot)
    signed = transport.signature_present(headers)
    # Incomplete signature headers are refused here, signing key or not.
    nonce = transport.signature_nonce(headers) if signed else ""
    keys = bot.signing_keys()
    if keys:
        if not signed:
            raise SignatureError("unsigned callback for a bot with a signing key")
        label = transport.verify_signature(headers, body, keys)
        return Verification(SignatureVerdict.VALID, label, key_fingerprint(dict(keys)[label]), nonce)
    if app_settings.REQUIRE_SIGNED_CALLBACKS:
        raise SignatureError("bot has no signing key and REQUIRE_SIGNED_CALLBACKS is on")
    # Accepted unsigned (the project chose so); a nonce still helps dedupe, per bot.
    return Verification(SignatureVerdict.UNSIGNED_ACCEPTED, "", f"unsigned:{bot.pk}", nonce)
