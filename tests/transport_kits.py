"""One service-level suite for both transports: what a test needs to know of each wire, and the bot fixtures.

A test written against the services (send, callbacks, window, reconciliation,
signals, secrets) takes ``kit`` and one of the bot fixtures below, and runs once
per transport, against the sandbox over real HTTP:

``any_transport_bot``       a bot whose Sinch is the sandbox; its callbacks go nowhere
``live_any_transport_bot``  the same, its signed callbacks coming back to the live Django server
``any_bot``                 a bot for webhook tests (the Django test client posts its callbacks)

``kit`` says what differs on the wire: the send path, how many recipients one
request takes, the callback field, how a delivery report or an inbound message
looks and is signed, which secret the bot holds. Requests the Conversation
client makes are checked against ``conversation-api.yaml`` by the contract
plugin, as the legacy client's are against ``whatsapp-api.yaml``.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from django_sinch_whatsapp.sandbox.conversation.signing import sign_headers as conversation_sign_headers

from .conftest import CALLBACK_KEY, TOKEN
from .conversation_helpers import APP, KEY_ID, KEY_SECRET, PROJECT, WEBHOOK_SECRET, conversation_bot_values
from .webhook_helpers import inbound_text_payload, signed_headers, status_payload

TRANSPORTS = ("whatsapp", "conversation")
#: Our states -> the Conversation API's delivery statuses (its parser maps them back).
CONVERSATION_STATUS = {
    "queued": "QUEUED",
    "dispatched": "QUEUED_ON_CHANNEL",
    "delivered": "DELIVERED",
    "read": "READ",
    "failed": "FAILED",
}


@dataclass(frozen=True)
class Kit:
    name: str
    #: the path a send request ends with
    send_suffix: str
    #: most recipients one send request takes (whatsapp-message.md: 20; Conversation: 1)
    per_request: int
    #: the member of a send body holding the callback URL
    callback_field: str
    #: the write-only credential sent to Sinch, and its value on the sandbox bots
    secret_field: str
    secret: str
    #: the key the bot's callbacks are signed with
    callback_key: str
    #: the history of a text the sandbox delivers and the recipient reads
    read_history: tuple[str, ...]
    #: the paths an opt-in and an opt-out request end with
    opt_in_suffix: str = ""
    opt_out_suffix: str = ""

    def __str__(self) -> str:
        return self.name

    # -- outbound --------------------------------------------------------------------------------------------

    def requests_for(self, recipients: int) -> int:
        return math.ceil(recipients / self.per_request)

    def sends(self, sandbox: Any) -> list[dict[str, Any]]:
        """The send requests the sandbox logged, in order."""
        return [
            entry
            for entry in sandbox.requests_log
            if entry["method"] == "POST" and urlsplit(entry["path"]).path.endswith(self.send_suffix)
        ]

    def recipients(self, entry: dict[str, Any]) -> list[str]:
        body = entry["body"]
        if self.name == "whatsapp":
            return list(body["to"])
        return [i["identity"] for i in body["recipient"]["identified_by"]["channel_identities"]]

    def sent_recipients(self, sandbox: Any) -> list[list[str]]:
        """Recipients per send request, in order."""
        return [self.recipients(entry) for entry in self.sends(sandbox)]

    def numbers(self, entry: dict[str, Any]) -> list[str]:
        """The numbers of an opt-in/out or capability request."""
        if self.name == "whatsapp":
            return list(entry["body"]["numbers"])
        return self.recipients(entry)

    def requests_to(self, sandbox: Any, method: str, suffix: str) -> list[dict[str, Any]]:
        return [
            entry
            for entry in sandbox.requests_log
            if entry["method"] == method and urlsplit(entry["path"]).path.endswith(suffix)
        ]

    def send_count(self, sandbox: Any) -> int:
        return sandbox.count("POST", self.send_suffix)

    def lookups(self, sandbox: Any, message_id: str) -> int:
        """How many times reconciliation asked Sinch about one message."""
        suffix = f"/callbacks/status/{message_id}" if self.name == "whatsapp" else f"/messages/{message_id}"
        return sandbox.count("GET", suffix)

    # -- inbound ---------------------------------------------------------------------------------------------

    def inject_inbound(self, sandbox: Any, bot: Any, number: str, text: str) -> str:
        """A contact writes to the bot through the sandbox (a signed callback follows); the message id."""
        if self.name == "whatsapp":
            return str(sandbox.inject_inbound(bot.sinch_bot_id, number, text=text))
        return str(sandbox.conversation.inject_inbound(PROJECT, APP, number, text=text))

    def status_body(self, message_id: str, state: str, *, recipient: str = "46732001122") -> bytes:
        """A delivery report as the transport's wire carries it."""
        if self.name == "whatsapp":
            return json.dumps(status_payload(message_id, state, recipient="+" + recipient)).encode()
        report = {
            "message_id": message_id,
            "conversation_id": "CONV1",
            "status": CONVERSATION_STATUS[state],
            "contact_id": "CONTACT1",
            "channel_identity": {"channel": "WHATSAPP", "identity": recipient, "app_id": APP},
        }
        return self._envelope(message_delivery_report=report)

    def inbound_body(self, message_id: str, text: str = "Hello bot", *, sender: str = "46732001122") -> bytes:
        """An inbound text message, sent now (so it opens the 24-hour window)."""
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if self.name == "whatsapp":
            payload = inbound_text_payload(message_id, text, sender=sender)
            payload["notifications"][0]["timestamp"] = now
            return json.dumps(payload).encode()
        message = {
            "id": message_id,
            "direction": "TO_APP",
            "contact_message": {"text_message": {"text": text}},
            "channel_identity": {"channel": "WHATSAPP", "identity": sender, "app_id": APP},
            "conversation_id": "CONV1",
            "contact_id": "CONTACT1",
            "accept_time": now,
        }
        return self._envelope(message=message)

    def _envelope(self, **members: Any) -> bytes:
        payload = {"app_id": APP, "project_id": PROJECT, "accepted_time": "2026-01-01T10:00:00Z", **members}
        return json.dumps(payload, separators=(",", ":")).encode()

    def headers(self, body: bytes, *, nonce: str | None = None, key: str | None = None) -> dict[str, str]:
        """The signature headers Sinch sends, as Django test client keyword arguments."""
        nonce = nonce or secrets.token_hex(16)
        if self.name == "whatsapp":
            return signed_headers(body, key or self.callback_key, nonce=nonce)
        signed = conversation_sign_headers(key or self.callback_key, body, nonce, int(time.time()))
        return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in signed.items()}

    def post(self, client: Any, bot: Any, body: bytes, *, nonce: str | None = None, key: str | None = None) -> Any:
        """Post a signed callback to the bot's webhook with the Django test client."""
        headers = self.headers(body, nonce=nonce, key=key)
        return client.post(bot.callback_path, data=body, content_type="application/json", **headers)


KITS = {
    "whatsapp": Kit(
        name="whatsapp",
        send_suffix="/messages",
        per_request=20,
        callback_field="callback",
        secret_field="bearer_token",
        secret=TOKEN,
        callback_key=CALLBACK_KEY,
        read_history=("queued", "dispatched", "sent", "delivered", "read"),
        opt_in_suffix="/provision/optin",
        opt_out_suffix="/provision/optin",  # DELETE (whatsapp-opt-in-and-outs.md)
    ),
    "conversation": Kit(
        name="conversation",
        send_suffix="/messages:send",
        per_request=1,
        callback_field="callback_url",
        secret_field="key_secret",
        secret=KEY_SECRET,
        callback_key=WEBHOOK_SECRET,
        read_history=("queued", "dispatched", "delivered", "read"),
        opt_in_suffix="/optins:register",
        opt_out_suffix="/optouts:register",
    ),
}


def kit_for(bot: Any) -> Kit:
    return KITS[bot.transport]


@pytest.fixture(params=TRANSPORTS)
def kit(request: pytest.FixtureRequest) -> Kit:
    """What differs between the transports' wires; parametrizes a test over both."""
    return KITS[request.param]


@pytest.fixture
def any_transport_bot(kit: Kit, request: pytest.FixtureRequest) -> Any:
    """A bot on the sandbox, once per transport; its callbacks go nowhere."""
    return request.getfixturevalue("sandbox_bot" if kit.name == "whatsapp" else "conversation_bot")


@pytest.fixture
def live_any_transport_bot(kit: Kit, request: pytest.FixtureRequest) -> Any:
    """A bot on the sandbox whose signed callbacks come back to the live Django server, once per transport."""
    return request.getfixturevalue("live_sandbox_bot" if kit.name == "whatsapp" else "live_conversation_bot")


@pytest.fixture
def any_bot(kit: Kit, make_bot: Any, sandbox: Any) -> Any:
    """A bot for webhook tests (nothing is sent): its callbacks are posted with the Django test client."""
    if kit.name == "whatsapp":
        return make_bot()
    return make_bot(**conversation_bot_values(sandbox))


def wrong_credentials_bot(kit: Kit, make_bot: Any, sandbox: Any, secret: str) -> Any:
    """A bot on the sandbox whose secret is ``secret`` (wrong): Sinch answers 401."""
    if kit.name == "whatsapp":
        bot = make_bot(base_url_override=sandbox.region_url("us"), bearer_token=secret)
        sandbox.register_bot(bot.sinch_bot_id, TOKEN, region="us", callback_key=CALLBACK_KEY)
        return bot
    from django.core.cache import caches

    caches["default"].clear()  # no token of an earlier test may stand in for the wrong secret
    sandbox.conversation.register_key(KEY_ID, kit.secret, project_id=PROJECT)
    sandbox.conversation.register_app(PROJECT, APP, region="us")
    return make_bot(**conversation_bot_values(sandbox, key_secret=secret))
