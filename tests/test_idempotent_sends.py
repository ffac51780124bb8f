"""Idempotent sends: a retried POST /send/ never sends twice; after commit the API never answers 5xx."""

from __future__ import annotations

import threading
from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from django_sinch_whatsapp import services
from django_sinch_whatsapp.exceptions import IdempotencyKeyInProgress, IdempotencyKeyReused
from django_sinch_whatsapp.models import IdempotencyKey, OutboundMessage

from .conftest import TOKEN, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

BODY = {"to": ["46732001122", "46732001123"], "text": "Your order shipped", "allow_outside_window": True}


@pytest.fixture
def api(api_user):
    client = APIClient()
    client.force_authenticate(api_user)
    return client


def send(api, bot, key, body=BODY):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return api.post(f"/api/sinch-whatsapp/bots/{bot.pk}/send/", body, format="json", **headers)


def posts(sandbox):
    return sandbox.count("POST", "/messages")


def test_a_repeat_with_the_same_key_and_body_returns_the_first_answer_and_sends_nothing(
    api, sandbox_bot, fresh_sandbox
):
    first = send(api, sandbox_bot, "order-1001")
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    second = send(api, sandbox_bot, "order-1001", {**BODY, "to": list(BODY["to"])})  # same body, a new request
    assert second.status_code == 201 and second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert posts(fresh_sandbox) == 1 and OutboundMessage.objects.count() == 2
    # Without a key every request is a new send.
    assert send(api, sandbox_bot, None).status_code == 201 and posts(fresh_sandbox) == 2


def test_the_same_key_with_another_body_is_422_and_sends_nothing(api, sandbox_bot, fresh_sandbox):
    assert send(api, sandbox_bot, "k-1").status_code == 201
    other = send(api, sandbox_bot, "k-1", {**BODY, "text": "Something else"})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused" and "k-1" in other.json()["error"]["message"]
    assert posts(fresh_sandbox) == 1 and OutboundMessage.objects.count() == 2


def test_keys_are_per_tenant(api, sandbox_bot, fresh_sandbox, make_bot, other_organization, django_user_model):
    assert send(api, sandbox_bot, "shared-key").status_code == 201
    theirs = make_bot(
        tenant=other_organization, sinch_bot_id="theirs", base_url_override=fresh_sandbox.region_url("us")
    )
    fresh_sandbox.register_bot("theirs", TOKEN, region="us")
    bob = django_user_model.objects.create_user("bob", password="pw-bob")
    other_organization.members.add(bob)
    their_api = APIClient()
    their_api.force_authenticate(bob)
    response = send(their_api, theirs, "shared-key")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert posts(fresh_sandbox) == 2
    assert sorted(IdempotencyKey.objects.values_list("scope", flat=True)) == sorted(
        [f"tenant:{sandbox_bot.tenant_id}", f"tenant:{other_organization.pk}"]
    )


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there", "naïve"])
def test_a_malformed_key_is_a_400_naming_the_header(api, sandbox_bot, fresh_sandbox, key):
    response = send(api, sandbox_bot, key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["error"]["fields"]
    assert posts(fresh_sandbox) == 0


def test_eight_concurrent_repeats_send_once(live_server, api_user, sandbox_bot, fresh_sandbox):
    """Eight clients POST the same key at once over real HTTP: the unique constraint lets one send."""
    fresh_sandbox.faults.slow_next(1, 0.5, path_contains="/messages")  # the first is still sending when the rest come
    url = f"{live_server.url}/api/sinch-whatsapp/bots/{sandbox_bot.pk}/send/"
    barrier = threading.Barrier(8)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def client():
        barrier.wait()
        response = requests.post(
            url, json=BODY, auth=("alice", "pw-alice"), headers={"Idempotency-Key": "burst-7"}, timeout=30
        )
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 8
    assert sorted(r.status_code for r in answers) == [201] * 8, [r.text[:200] for r in answers]
    assert all(r.json() == answers[0].json() for r in answers)  # every client got the first answer
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in answers) == 7
    assert posts(fresh_sandbox) == 1
    assert OutboundMessage.objects.count() == 2 and IdempotencyKey.objects.count() == 1


def test_a_retry_after_a_forced_500_after_commit_sends_nothing_more(api, sandbox_bot, fresh_sandbox, monkeypatch):
    from django_sinch_whatsapp.api import send_answers

    def crash(outcome):
        raise RuntimeError("the process died after the rows were committed and sent")

    monkeypatch.setattr(send_answers, "answer", crash)
    api.raise_request_exception = False
    assert send(api, sandbox_bot, "retry-me").status_code == 500
    monkeypatch.undo()
    assert posts(fresh_sandbox) == 1
    retry = send(api, sandbox_bot, "retry-me")
    # The first answer was never given: the replay answers from the rows as they are, and keeps that answer.
    assert retry.status_code == 201 and retry["Idempotent-Replayed"] == "true"
    assert sorted(m["state"] for m in retry.json()["messages"]) == ["queued", "queued"]
    assert send(api, sandbox_bot, "retry-me").json() == retry.json()
    assert posts(fresh_sandbox) == 1 and OutboundMessage.objects.count() == 2


def test_database_lost_after_the_request_answers_202_and_a_retry_sends_nothing(
    api, sandbox_bot, fresh_sandbox, monkeypatch
):
    """Sinch got the message, then the database went away: 202 with the rows as held, never an HTML 500."""
    from django_sinch_whatsapp import dispatch
    from django_sinch_whatsapp.services.sending import SendOutcome

    def database_gone(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    fresh_sandbox.faults.slow_next(1, 0.3, path_contains="/messages")
    monkeypatch.setattr(dispatch, "_record_answer", database_gone)
    monkeypatch.setattr(SendOutcome, "queryset", property(database_gone))  # reading the rows back fails too
    first = send(api, sandbox_bot, "db-drop")
    monkeypatch.undo()
    assert first.status_code == 202, first.content
    assert first["Content-Type"] == "application/json"
    assert sorted(m["state"] for m in first.json()["messages"]) == ["accepted", "accepted"]
    assert "pending" in first.json()["dispatch"]
    assert wait_for(lambda: posts(fresh_sandbox) == 1, timeout=5)
    retry = send(api, sandbox_bot, "db-drop")
    assert retry.status_code == 202 and retry.json() == first.json()
    # The rows are claimed (the request may have reached Sinch): reconciliation never re-sends them.
    OutboundMessage.objects.update(
        created_at=timezone.now() - timedelta(hours=1), dispatched_at=timezone.now() - timedelta(hours=1)
    )
    call_command("sinch_whatsapp_reconcile", stdout=StringIO())
    assert set(OutboundMessage.objects.values_list("state", flat=True)) == {"unknown"}
    assert posts(fresh_sandbox) == 1


@pytest.fixture
def unreachable_broker(settings):
    """The project's Celery app pointed at a port where nothing listens."""
    import socket

    from tests.celery_app import app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()

    def fresh_pools():
        # kombu keeps pools in a global registry keyed by connection: closing the app's pool alone
        # leaves that closed pool to be handed back for the same broker URL to every later test.
        from kombu import pools

        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    original = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app.conf.broker_connection_timeout = 1
    fresh_pools()
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "DISPATCH_BACKEND": "celery"}
    yield app
    app.conf.broker_url = original
    fresh_pools()


def test_broker_unreachable_answers_202_with_accepted_rows_that_reconciliation_sends(
    api, sandbox_bot, fresh_sandbox, unreachable_broker, settings
):
    response = send(api, sandbox_bot, "broker-down")
    assert response.status_code == 202, response.content
    assert sorted(m["state"] for m in response.json()["messages"]) == ["accepted", "accepted"]
    assert all(m["dispatched_at"] is None for m in response.json()["messages"])  # never claimed: nothing went out
    assert posts(fresh_sandbox) == 0
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "DISPATCH_BACKEND": "inline"}
    OutboundMessage.objects.update(created_at=timezone.now() - timedelta(hours=1))
    call_command("sinch_whatsapp_reconcile", stdout=StringIO())
    assert wait_for(lambda: posts(fresh_sandbox) == 1, timeout=5)
    assert OutboundMessage.objects.filter(sinch_message_id__isnull=False).count() == 2


def test_the_service_takes_the_same_key(sandbox_bot, fresh_sandbox):
    first = services.send_text(sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True, idempotency_key="svc")
    again = services.send_text(sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True, idempotency_key="svc")
    assert not first.replayed and again.replayed and again.send_id == first.send_id
    assert [m.pk for m in again.messages] == [m.pk for m in first.messages]
    assert posts(fresh_sandbox) == 1
    with pytest.raises(IdempotencyKeyReused):
        services.send_text(sandbox_bot, ["46732001199"], "Hi", allow_outside_window=True, idempotency_key="svc")
    assert posts(fresh_sandbox) == 1


def test_a_repeat_while_the_first_is_sending_waits_then_answers_in_progress(sandbox_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "IDEMPOTENCY_WAIT_SECONDS": 0.2}
    fresh_sandbox.faults.slow_next(1, 1.5, path_contains="/messages")
    started = threading.Event()
    first = []

    def first_request():
        from django.db import connection

        started.set()
        try:
            first.append(
                services.send_text(
                    sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True, idempotency_key="slow"
                )
            )
        finally:
            connection.close()  # this thread's own connection, so the test database can be dropped

    thread = threading.Thread(target=first_request)
    thread.start()
    started.wait()
    assert wait_for(lambda: IdempotencyKey.objects.filter(key="slow").exists(), timeout=5)
    with pytest.raises(IdempotencyKeyInProgress):
        services.send_text(sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True, idempotency_key="slow")
    thread.join(10)
    assert first[0].sent == 1 and posts(fresh_sandbox) == 1


def test_old_keys_are_pruned_and_recent_ones_kept(sandbox_bot, fresh_sandbox):
    from io import StringIO

    from django.core.management.base import CommandError

    services.send_text(sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True, idempotency_key="old")
    services.send_text(sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True, idempotency_key="new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=49))
    out = StringIO()
    call_command("sinch_whatsapp_prune_idempotency_keys", stdout=out)
    assert "Deleted 1 idempotency key(s)" in out.getvalue()
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    with pytest.raises(CommandError, match="at least 24 hours"):
        call_command("sinch_whatsapp_prune_idempotency_keys", "--hours", "2")
