"""Who may post to a bot's webhook: one function per signature scheme, picked by the view.

The standalone API's HMAC headers (:mod:`.signature`) keep their own function;
every other transport verifies through its ``Transport.verify_signature`` (the
Conversation API's ``x-sinch-webhook-*`` scheme), with the same Verification
(and so the same nonce replay protection) coming out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.crypto import salted_hmac

from ..conf import app_settings
from ..models import Bot, SignatureVerdict
from .signature import SignatureError, SignatureHeaders, verify

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


def verify_sinch_whatsapp(bot: Bot, headers: Mapping[str, str], body: bytes) -> Verification:
    """whatsapp-callback.md, "Signature". Raises :class:`SignatureError` with a reason safe to show."""
    signature = SignatureHeaders.from_headers(headers)
    keys = bot.signing_keys()
    if keys:
        if signature is None:
            raise SignatureError("unsigned callback for a bot with a signing key")
        label = verify(signature, body, keys)
        key = dict(keys)[label]
        return Verification(SignatureVerdict.VALID, label, key_fingerprint(key), signature.nonce)
    if app_settings.REQUIRE_SIGNED_CALLBACKS:
        raise SignatureError("bot has no signing key and REQUIRE_SIGNED_CALLBACKS is on")
    # Accepted unsigned (the project chose so); a nonce still helps dedupe, per bot.
    return Verification(
        SignatureVerdict.UNSIGNED_ACCEPTED,
        "",
        f"unsigned:{bot.pk}",
        signature.nonce if signature else "",
    )


def verify_with_transport(bot: Bot, headers: Mapping[str, str], body: bytes) -> Verification:
    """The bot's transport's own scheme (the Conversation API's x-sinch-webhook-* headers, with its
    timestamp tolerance); the nonce goes to the same replay machinery as the legacy one."""
    from ..clients import verifier_for_bot

    transport = verifier_for_bot(bot)
    keys = bot.signing_keys()
    nonce = transport.signature_nonce(headers) if transport.signature_present(headers) else ""
    if keys:
        if not transport.signature_present(headers):
            raise SignatureError(f"unsigned callback for a bot with a signing key ({transport.name} scheme)")
        label = transport.verify_signature(headers, body, keys)
        return Verification(SignatureVerdict.VALID, label, key_fingerprint(dict(keys)[label]), nonce)
    if app_settings.REQUIRE_SIGNED_CALLBACKS:
        raise SignatureError("bot has no signing key and REQUIRE_SIGNED_CALLBACKS is on")
    return Verification(SignatureVerdict.UNSIGNED_ACCEPTED, "", f"unsigned:{bot.pk}", nonce)


def verify_callback(bot: Bot, headers: Mapping[str, str], body: bytes) -> Verification:
    """Verify with the bot's transport's scheme; raises SignatureError."""
    from ..transports import DEFAULT_TRANSPORT

    if bot.transport == DEFAULT_TRANSPORT:
        return verify_sinch_whatsapp(bot, headers, body)  # the legacy path, unchanged (and import-free)
    return verify_with_transport(bot, headers, body)
