"""The transport seam: the registry by name, feature declarations and their one clear error."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_sinch_whatsapp import transports
from django_sinch_whatsapp.callbacks.events import ParsedCallback
from django_sinch_whatsapp.exceptions import SinchWhatsAppError
from django_sinch_whatsapp.transports import Feature, FeatureNotSupported, SentMessage, Transport, WireRequest


class EchoTransport(Transport):
    """A third transport written the way a new package would be (here only to prove one registration suffices)."""

    name = "echo"
    recipients_per_request = 2
    features = frozenset({Feature.MARK_AS_READ})

    def build_requests(
        self,
        message: Mapping[str, Any],
        recipients: Sequence[str],
        *,
        correlation_ids: Sequence[str] = (),
        callback_url: str = "",
    ) -> list[WireRequest]:
        return [
            WireRequest("POST", "echo", {"to": list(b), "m": dict(message)}, b)
            for b in self.recipient_batches(recipients)
        ]

    def send(self, request: WireRequest) -> list[SentMessage]:
        return [SentMessage(r, f"id-{r}") for r in request.recipients]

    def verify_signature(
        self, headers: Mapping[str, str], raw_body: bytes, keys: Iterable[tuple[str, str]], *, now: float | None = None
    ) -> str:
        return "none"

    def parse_callback(self, payload: Any) -> ParsedCallback:
        return ParsedCallback(raw=payload)


def test_builtin_names() -> None:
    assert transports.transport_names()[:2] == ("whatsapp", "conversation")
    assert transports.get_transport("whatsapp").name == "whatsapp"
    assert transports.DEFAULT_TRANSPORT == "whatsapp"


def test_unknown_name_is_a_configuration_error_listing_the_known_ones() -> None:
    with pytest.raises(ImproperlyConfigured, match="no transport named 'meta'; the registered transports are"):
        transports.get_transport("meta")


def test_a_third_transport_is_one_setting() -> None:
    with override_settings(SINCH_WHATSAPP={"TRANSPORTS": {"echo": f"{__name__}.EchoTransport"}}):
        cls = transports.get_transport("echo")
        assert cls is EchoTransport
        batches = cls().build_requests({"type": "text", "text": "x"}, ["1", "2", "3"])
        assert [r.recipients for r in batches] == [("1", "2"), ("3",)]
        assert "echo" in transports.transports_with(Feature.MARK_AS_READ)


def test_a_setting_pointing_at_something_else_is_refused() -> None:
    with (
        override_settings(
            SINCH_WHATSAPP={"TRANSPORTS": {"bad": "django_sinch_whatsapp.exceptions.SinchWhatsAppError"}}
        ),
        pytest.raises(ImproperlyConfigured, match="not a Transport subclass"),
    ):
        transports.get_transport("bad")


def test_register_transport_checks_the_name() -> None:
    with pytest.raises(ValueError, match="must be a Python identifier"):
        transports.register_transport("not a name", EchoTransport)


def test_missing_feature_raises_one_clear_error_naming_the_transport() -> None:
    settings = override_settings(SINCH_WHATSAPP={"TRANSPORTS": {"echo": EchoTransport}})
    with settings, pytest.raises(FeatureNotSupported) as caught:
        EchoTransport().require(Feature.STICKERPACKS)
    error = caught.value
    assert isinstance(error, SinchWhatsAppError)
    assert (error.transport, error.feature) == ("echo", "stickerpacks")
    assert str(error) == "stickerpacks is not available on the 'echo' transport; it exists on the whatsapp transport"


def test_whatsapp_adapter_batches_by_twenty_and_has_every_feature() -> None:
    whatsapp = transports.get_transport("whatsapp")()
    requests = whatsapp.build_requests(
        {"type": "text", "text": "x"}, [str(n) for n in range(41)], callback_url="https://h/cb"
    )
    assert [len(r.recipients) for r in requests] == [20, 20, 1]
    assert requests[0].body["callback"] == "https://h/cb"
    for feature in Feature:
        if feature is not Feature.CORRELATION_LOOKUP:
            whatsapp.require(feature)
    with pytest.raises(FeatureNotSupported):  # its wire carries no id of ours (see WhatsAppTransport)
        whatsapp.require(Feature.CORRELATION_LOOKUP)
    assert whatsapp.signature_present({"Sinch-WhatsApp-Callback-Signature": "x"})
    assert not whatsapp.signature_present({"X-Sinch-Webhook-Signature": "x"})


class SignedEchoTransport(EchoTransport):
    """A third transport with its own signature scheme: the webhook must use it without knowing it."""

    name = "signed_echo"
    signature_headers = ("x-echo-signature",)
    credential_fields = ("app_id",)

    def verify_signature(
        self, headers: Mapping[str, str], raw_body: bytes, keys: Iterable[tuple[str, str]], *, now: float | None = None
    ) -> str:
        from django_sinch_whatsapp.callbacks.signature import SignatureError

        given = {k.lower(): v for k, v in headers.items()}.get("x-echo-signature", "")
        for label, key in keys:
            if given == f"{key}:{len(raw_body)}":
                return label
        raise SignatureError("echo signature does not match")

    def signature_nonce(self, headers: Mapping[str, str]) -> str:
        return {k.lower(): v for k, v in headers.items()}.get("x-echo-nonce", "")


@pytest.mark.django_db
def test_the_webhook_verifies_with_a_third_transports_own_scheme(client, make_bot) -> None:
    from django_sinch_whatsapp import services
    from django_sinch_whatsapp.models import CallbackEvent

    transports.register_transport("signed_echo", SignedEchoTransport)
    try:
        bot = make_bot(transport="signed_echo", sinch_bot_id="", bearer_token="", app_id="echo-app")
        body = b'{"anything": true}'

        def post(**headers: str) -> Any:
            return client.post(bot.callback_path, data=body, content_type="application/json", **headers)

        assert post().status_code == 403  # the bot has a signing key: unsigned is refused, whatever the scheme
        assert post(HTTP_X_ECHO_SIGNATURE="wrong").status_code == 403
        assert not CallbackEvent.objects.exists()
        key = bot.callback_key.reveal()
        assert post(HTTP_X_ECHO_SIGNATURE=f"{key}:{len(body)}", HTTP_X_ECHO_NONCE="n-1").status_code == 200
        event = CallbackEvent.objects.get()
        assert (event.signature_verdict, event.verified_with, event.nonce) == ("valid", "current", "n-1")
        # Its nonce goes to the same replay check as the built-in schemes'.
        again = post(HTTP_X_ECHO_SIGNATURE=f"{key}:{len(body)}", HTTP_X_ECHO_NONCE="n-1")
        assert again.status_code == 200 and again.json()["detail"] == "Already received."
        # Services ask the transport for features: what it lacks is refused by its name.
        with pytest.raises(FeatureNotSupported, match="'signed_echo' transport"):
            services.check_capability(bot, ["46732001122"])
        # Its credentials are its own list: the model, the admin form and the API check them.
        from django_sinch_whatsapp.models import Bot

        assert set(Bot(transport="signed_echo").missing_credentials()) == {"app_id"}
    finally:
        transports._registered.pop("signed_echo", None)
