"""OAuth2 tokens of the Conversation transport: cached, refreshed, renewed after 401-expired, 429-proof.

The cross-process tests start real Python processes that share a Redis cache
(``django.core.cache.backends.redis.RedisCache`` at 127.0.0.1:6379, marked ``redis``)
and send through the sandbox over HTTP; the sandbox counts the token requests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from django_sinch_whatsapp.client import messages as build
from django_sinch_whatsapp.client.retry import RetryPolicy
from django_sinch_whatsapp.exceptions import SinchUnavailable
from django_sinch_whatsapp.transports.conversation import wire
from django_sinch_whatsapp.transports.conversation.auth import AccessKey, TokenProvider
from django_sinch_whatsapp.transports.errors import ConversationUnauthorized
from tests.conversation_helpers import (
    APP,
    KEY_ID,
    KEY_SECRET,
    PROJECT,
    make_client,
)

REPO = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/0"


def _send(client, text="Hi"):
    body = wire.send_body(
        project_id=client.project_id, app_id=client.app_id, message=build.text(text), recipient="46732001122"
    )
    return client.send_message(body)


def test_one_token_serves_many_sends(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox)
    for _ in range(5):
        _send(client)
    assert conversation_app.token_requests == 1
    # A second client of the same key (another dispatch worker) finds the token in the cache.
    _send(make_client(fresh_sandbox))
    assert conversation_app.token_requests == 1


def test_the_token_request_is_client_credentials_with_basic_auth(fresh_sandbox, conversation_app) -> None:
    _send(make_client(fresh_sandbox))
    [entry] = [e for e in fresh_sandbox.requests_log if e["path"].endswith("/oauth2/token")]
    assert entry["method"] == "POST" and entry["body"] == "grant_type=client_credentials"
    assert entry["headers"]["Authorization"].startswith("Basic ")
    api = [e for e in fresh_sandbox.requests_log if e["path"].endswith("messages:send")]
    # The sandbox's log never shows credentials (its control API answers anyone); the send was
    # accepted, so the sandbox saw the token it issued.
    assert entry["headers"]["Authorization"] == "Basic ***"
    assert api[0]["headers"]["Authorization"] == "Bearer ***" and api[0]["status"] == 200


def test_token_is_refreshed_before_it_expires(fresh_sandbox, conversation_app) -> None:
    conversation_app.configure_tokens(expires_in=2)  # refreshed after half its life when that is shorter
    client = make_client(fresh_sandbox)
    _send(client)
    _send(client)
    assert conversation_app.token_requests == 1
    time.sleep(1.1)
    _send(client)
    assert conversation_app.token_requests == 2


def test_a_401_saying_expired_renews_the_token_once(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox)
    _send(client)
    conversation_app.expire_tokens()  # revoked early: the cache still thinks the token is good
    assert _send(client).message_id
    assert conversation_app.token_requests == 2
    assert fresh_sandbox.count("POST", "messages:send") == 3


def test_a_401_for_an_unknown_token_is_not_retried(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox)
    _send(client)
    with conversation_app.state.lock:
        conversation_app.state.tokens.clear()  # Sinch no longer knows the token, and does not say "expired"
    with pytest.raises(ConversationUnauthorized, match="invalid credentials"):
        _send(client)
    assert conversation_app.token_requests == 1


def test_a_429_burst_on_the_token_endpoint_is_retried_with_backoff_and_jitter(fresh_sandbox, conversation_app) -> None:
    conversation_app.configure_tokens(fail_next=3)
    slept: list[float] = []
    key = AccessKey(KEY_ID, KEY_SECRET)
    url = conversation_app.url("us") + "/oauth2/token"
    provider = TokenProvider(
        key, url, retry=RetryPolicy(total=5, backoff_factor=0.2, backoff_max=5), sleep=slept.append
    )
    assert provider.token().startswith("sbx-")
    assert conversation_app.token_requests == 4
    assert len(slept) == 3
    for attempt, delay in enumerate(slept, start=1):
        ceiling = 0.2 * 2 ** (attempt - 1)
        assert ceiling / 2 <= delay <= ceiling  # full jitter in the upper half of each step


def test_a_429_burst_longer_than_the_retries_is_unavailable(fresh_sandbox, conversation_app) -> None:
    conversation_app.configure_tokens(fail_next=10)
    key = AccessKey(KEY_ID, KEY_SECRET)
    provider = TokenProvider(
        key, conversation_app.url("us") + "/oauth2/token", retry=RetryPolicy(total=2), sleep=lambda s: None
    )
    with pytest.raises(SinchUnavailable) as caught:
        provider.token()
    assert caught.value.status_code == 429
    assert KEY_SECRET not in str(caught.value) and KEY_SECRET not in repr(caught.value)
    assert conversation_app.token_requests == 3


def test_wrong_secret_at_the_token_endpoint(fresh_sandbox, conversation_app) -> None:
    provider = TokenProvider(AccessKey(KEY_ID, "not-the-secret"), conversation_app.url("us") + "/oauth2/token")
    with pytest.raises(ConversationUnauthorized, match="invalid_client") as caught:
        provider.token()
    assert "not-the-secret" not in str(caught.value)
    assert "not-the-secret" not in repr(provider) and "not-the-secret" not in repr(provider.key)


def test_concurrent_threads_make_one_token_request(fresh_sandbox, conversation_app) -> None:
    clients = [make_client(fresh_sandbox) for _ in range(10)]
    for client in clients:
        client.tokens._sleep = time.sleep  # waiting for the lock holder really waits
    errors: list[Exception] = []
    barrier = threading.Barrier(len(clients))

    def run(client) -> None:
        barrier.wait()
        try:
            _send(client)
        except Exception as err:
            errors.append(err)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert conversation_app.token_requests == 1
    assert fresh_sandbox.count("POST", "messages:send") == 10


def _redis_up() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


def _workers(sandbox, processes: int, threads: int, prefix: str) -> list[dict]:
    arguments = {
        "base_url": sandbox.conversation.url("us"),
        "redis_url": REDIS_URL,
        "key_prefix": prefix,
        "threads": threads,
        "start_at": time.time() + 3.0,  # all processes imported and waiting by then
        "project_id": PROJECT,
        "app_id": APP,
        "key_id": KEY_ID,
        "key_secret": KEY_SECRET,
    }
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.conversation_token_worker", json.dumps(arguments)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    results = []
    for process in started:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _forget(prefix: str) -> None:
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)


redis_only = pytest.mark.skipif(
    not _redis_up() and os.environ.get("CI", "").lower() not in ("1", "true", "yes"),
    reason="Redis is not reachable on 127.0.0.1:6379 (it is in CI)",
)


@redis_only
def test_two_processes_share_one_token_through_redis(fresh_sandbox, conversation_app) -> None:
    prefix = f"sinch-test-{uuid.uuid4().hex}"
    conversation_app.configure_tokens(expires_in=120)
    try:
        first = _workers(fresh_sandbox, processes=1, threads=1, prefix=prefix)
        second = _workers(fresh_sandbox, processes=1, threads=1, prefix=prefix)
    finally:
        _forget(prefix)
    assert first[0]["errors"] == [] and second[0]["errors"] == []
    assert conversation_app.token_requests == 1
    assert fresh_sandbox.count("POST", "messages:send") == 2


@redis_only
def test_twenty_concurrent_sends_from_four_processes_make_at_most_two_token_requests(
    fresh_sandbox, conversation_app
) -> None:
    prefix = f"sinch-test-{uuid.uuid4().hex}"
    conversation_app.configure_tokens(expires_in=120)
    try:
        results = _workers(fresh_sandbox, processes=4, threads=5, prefix=prefix)
    finally:
        _forget(prefix)
    assert [r["errors"] for r in results] == [[], [], [], []]
    assert sum(len(r["message_ids"]) for r in results) == 20
    assert fresh_sandbox.count("POST", "messages:send") == 20
    assert 1 <= conversation_app.token_requests <= 2
