"""Fixtures for the Conversation transport tests: an app on the sandbox, a webhook receiver, the contract check.

Every Conversation API request the sandbox logs during a test (except the token
endpoint, which is OAuth, not the API) is checked against
:mod:`tests.contract.conversation` when the test ends; a test that sends broken
requests on purpose marks itself ``@pytest.mark.contract_exempt(reason=...)``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from django_sinch_whatsapp.transports.conversation.auth import AccessKey, TokenProvider
from django_sinch_whatsapp.transports.conversation.client import ConversationClient
from tests.contract.conversation import check_request

PROJECT = "project-0f1e2d3c"
APP = "01EB37HMH1M6SV18ASNS3G135H"
KEY_ID = "key-6a7b8c9d"
KEY_SECRET = "conversation-key-secret-do-not-leak"
WEBHOOK_SECRET = "conversation-webhook-secret-0123"


@dataclass
class Received:
    """Callbacks posted to the receiver: raw body bytes and headers (lower-cased names)."""

    posts: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for body, _ in self.posts]


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, Received]]:
    """A plain HTTP server that answers 200 to every POST and keeps it."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with received.lock:
                received.posts.append((body, {k.lower(): v for k, v in self.headers.items()}))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def conversation_app(fresh_sandbox, request) -> Iterator[Any]:
    """The sandbox with one access key and one app in ``us``; checks every API request against the contract."""
    from django.core.cache import caches

    caches["default"].clear()  # tokens of an earlier test's sandbox state are unknown to this one
    conversation = fresh_sandbox.conversation
    conversation.register_key(KEY_ID, KEY_SECRET, project_id=PROJECT)
    conversation.register_app(PROJECT, APP, region="us")
    yield conversation
    violations = []
    for entry in fresh_sandbox.requests_log:
        path = urlsplit(entry["path"]).path
        if not path.startswith("/conversation/") or path.endswith("/oauth2/token"):
            continue
        api_path = "/" + path.split("/", 3)[3]
        for violation in check_request(entry["method"], api_path, entry["body"]):
            violations.append(f"{entry['method']} {api_path}: {violation}")
    if violations and request.node.get_closest_marker("contract_exempt") is None:
        pytest.fail("Conversation contract violations:\n" + "\n".join(violations), pytrace=False)


def make_client(sandbox: Any, *, region: str = "us", cache_alias: str = "default", **kwargs: Any) -> ConversationClient:
    """A client whose base URL override is the sandbox's host for ``region``; no sleeping in retries."""
    base_url = sandbox.conversation.url(region)
    client = ConversationClient(
        project_id=kwargs.pop("project_id", PROJECT),
        app_id=kwargs.pop("app_id", APP),
        key=AccessKey(kwargs.pop("key_id", KEY_ID), kwargs.pop("key_secret", KEY_SECRET)),
        region=region,
        base_url=base_url,
        sleep=lambda seconds: None,
        **kwargs,
    )
    client.tokens = TokenProvider(
        client.tokens.key, base_url + "/oauth2/token", cache_alias=cache_alias, sleep=lambda s: None
    )
    return client


def conversation_bot_values(sandbox: Any, **overrides: Any) -> dict[str, Any]:
    """Model values of a Conversation bot on the sandbox's Conversation wire (region ``us``)."""
    values = {
        "name": "Conversation support",
        "transport": "conversation",
        "sinch_bot_id": "",
        "bearer_token": "",
        "project_id": PROJECT,
        "app_id": APP,
        "key_id": KEY_ID,
        "key_secret": KEY_SECRET,
        "conversation_region": "us",
        "callback_key": WEBHOOK_SECRET,
        "base_url_override": sandbox.conversation.url("us"),
    }
    values.update(overrides)
    return values


@pytest.fixture
def conversation_bot(make_bot, fresh_sandbox, conversation_app):
    """A Conversation bot whose Sinch is the sandbox; its delivery reports go nowhere."""
    return make_bot(**conversation_bot_values(fresh_sandbox))


@pytest.fixture
def live_conversation_bot(make_bot, fresh_sandbox, conversation_app, live_server):
    """A Conversation bot on the sandbox whose signed callbacks come back to the live Django server."""
    bot = make_bot(**conversation_bot_values(fresh_sandbox))
    conversation_app.register_app(
        PROJECT, APP, region="us", webhook_url=live_server.url + bot.callback_path, webhook_secret=WEBHOOK_SECRET
    )
    yield bot
    # Reports still on their way to the live server would race the test database's flush (a deadlock
    # on PostgreSQL): let them land while the database is still there.
    fresh_sandbox.wait_for_callbacks(20)
