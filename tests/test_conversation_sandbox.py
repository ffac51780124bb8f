"""The sandbox's Conversation wire driven from outside, over HTTP only (as another process would)."""

from __future__ import annotations

import json

import requests

from django_sinch_whatsapp.transports.conversation.parsing import parse_callback
from tests.conftest import wait_for


def test_control_api_sets_up_an_app_and_drives_it(fresh_sandbox, webhook_receiver) -> None:
    url, received = webhook_receiver
    control = fresh_sandbox.base_url + "/_sandbox/conversation"
    http = requests.Session()
    assert (
        http.post(f"{control}/keys", json={"key_id": "k1", "key_secret": "s1", "project_id": "p1"}).status_code == 201
    )
    app = {"project_id": "p1", "app_id": "a1", "region": "br", "webhook_url": url, "webhook_secret": "w1"}
    answer = http.post(f"{control}/apps", json=app)
    assert answer.status_code == 201 and answer.json()["app"]["signed"] is True and "w1" not in answer.text
    assert http.post(f"{control}/plan", json={"statuses": ["QUEUED_ON_CHANNEL", "READ"]}).status_code == 200
    assert http.post(f"{control}/tokens", json={"fail_next": 1}).json()["requests"] == 0

    host = fresh_sandbox.conversation.url("br")
    assert (
        http.post(f"{host}/oauth2/token", auth=("k1", "s1"), data={"grant_type": "client_credentials"}).status_code
        == 429
    )
    token = http.post(f"{host}/oauth2/token", auth=("k1", "s1"), data={"grant_type": "client_credentials"}).json()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 3600
    assert http.get(f"{control}/tokens").json() == {"requests": 2, "issued": 1}

    body = {
        "app_id": "a1",
        "recipient": {"identified_by": {"channel_identities": [{"channel": "WHATSAPP", "identity": "5511999990000"}]}},
        "message": {"text_message": {"text": "Olá"}},
        "correlation_id": "row-3",
    }
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    sent = http.post(f"{host}/v1/projects/p1/messages:send", json=body, headers=headers)
    assert sent.status_code == 200 and set(sent.json()) == {"message_id", "accepted_time"}
    # The app lives in br: the us host does not know it.
    elsewhere = http.post(
        f"{fresh_sandbox.conversation.url('us')}/v1/projects/p1/messages:send", json=body, headers=headers
    )
    assert elsewhere.status_code == 404 and elsewhere.json()["error"]["status"] == "NOT_FOUND"

    inbound = http.post(
        f"{control}/inbound", json={"project_id": "p1", "app_id": "a1", "from": "+5511999990000", "text": "Oi"}
    )
    assert inbound.status_code == 201
    assert wait_for(lambda: len(received.posts) == 3, timeout=5)
    kinds = sorted(parse_callback(b).trigger for b in received.bodies())
    assert kinds == ["message", "message_delivery_report", "message_delivery_report"]
    statuses = [m["states"] for m in http.get(f"{control}/messages").json()["messages"]]
    assert statuses == [["QUEUED_ON_CHANNEL", "READ"]]


def test_api_errors_have_the_documented_body(fresh_sandbox) -> None:
    host = fresh_sandbox.conversation.url("eu")
    answer = requests.post(f"{host}/v1/projects/p1/messages:send", json={}, timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {
        "error": {
            "code": 401,
            "message": "Request had invalid credentials.",
            "status": "UNAUTHENTICATED",
            "details": [],
        }
    }
    assert (
        requests.get(fresh_sandbox.base_url + "/conversation/xx/v1/projects/p/messages/1", timeout=5).status_code == 404
    )


def test_unknown_control_endpoint(fresh_sandbox) -> None:
    answer = requests.post(fresh_sandbox.base_url + "/_sandbox/conversation/nope", json={}, timeout=5)
    assert answer.status_code == 404 and "No control endpoint" in answer.json()["details"]


def test_consent_and_capability_are_answered_then_reported_by_signed_callbacks(fresh_sandbox, webhook_receiver) -> None:
    from django_sinch_whatsapp.transports.conversation.transport import ConversationTransport

    url, received = webhook_receiver
    control = fresh_sandbox.base_url + "/_sandbox/conversation"
    http = requests.Session()
    http.post(f"{control}/keys", json={"key_id": "k1", "key_secret": "s1", "project_id": "p1"})
    app = {"project_id": "p1", "app_id": "a1", "region": "us", "webhook_url": url, "webhook_secret": "w1"}
    http.post(f"{control}/apps", json=app)
    refuse = {"project_id": "p1", "app_id": "a1", "number": "+46700000002", "refused": True}
    assert http.post(f"{control}/consent", json=refuse).status_code == 200
    host = fresh_sandbox.conversation.url("us")
    token = http.post(f"{host}/oauth2/token", auth=("k1", "s1"), data={"grant_type": "client_credentials"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    def recipient(number):
        return {"identified_by": {"channel_identities": [{"channel": "WHATSAPP", "identity": number}]}}

    body = {"app_id": "a1", "channels": ["WHATSAPP"], "recipient": recipient("46700000002")}
    # conversation-api.yaml, OptInResponse: the registration, and the request id of its notification.
    registered = http.post(f"{host}/v1/projects/p1/optins:register?request_id=req-7", json=body, headers=headers)
    assert registered.status_code == 200
    assert registered.json() == {"opt_in": {**body}, "request_id": "req-7"}
    query = {"app_id": "a1", "recipient": recipient("46700000001"), "request_id": "cap-1"}
    assert http.post(f"{host}/v1/projects/p1/capability:query", json=query, headers=headers).status_code == 200
    assert wait_for(lambda: len(received.posts) == 2, timeout=5)
    parsed = {}
    for raw, signed in received.posts:
        # Each is signed with the app's webhook secret in the x-sinch-webhook-signature scheme.
        assert ConversationTransport().verify_signature(signed, raw, [("current", "w1")]) == "current"
        callback = parse_callback(json.loads(raw))
        parsed[callback.trigger] = callback
    [consent] = parsed["opt_in_notification"].consents
    assert (consent.failed, consent.status, consent.request_id) == (True, "OPT_IN_FAILED", "req-7")
    [capability] = parsed["capability_notification"].capabilities
    assert (capability.capable, capability.request_id, capability.identity_e164) == (True, "cap-1", "+46700000001")
    # As Sinch may for WhatsApp: the registration endpoints no longer answer.
    assert http.post(f"{control}/consent", json={"project_id": "p1", "app_id": "a1", "endpoints": False}).ok
    gone = http.post(f"{host}/v1/projects/p1/optouts:register", json=body, headers=headers)
    assert gone.status_code == 404 and gone.json()["error"]["status"] == "NOT_FOUND"
