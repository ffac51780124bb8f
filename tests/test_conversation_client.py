"""ConversationClient and ConversationTransport against the sandbox over real HTTP."""

from __future__ import annotations

import copy

import pytest

from django_sinch_whatsapp.client import messages as build
from django_sinch_whatsapp.exceptions import SinchBadRequest, SinchRequestMayHaveBeenSent, SinchUnavailable
from django_sinch_whatsapp.transports import Feature, FeatureNotSupported, get_transport
from django_sinch_whatsapp.transports.errors import (
    ConversationForbidden,
    ConversationNotFound,
    ConversationUnauthorized,
)
from tests import message_samples as samples
from tests.conftest import wait_for
from tests.conversation_helpers import (
    APP,
    KEY_SECRET,
    PROJECT,
    make_client,
)

CARRIED = [name for name in samples.SAMPLES if name not in ("sticker", "video")]


def _transport(sandbox, **kwargs):
    return get_transport("conversation")(make_client(sandbox, **kwargs))


@pytest.mark.filterwarnings("ignore:template ttl is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", CARRIED)
def test_every_message_type_is_accepted_by_the_sandbox(fresh_sandbox, conversation_app, name) -> None:
    transport = _transport(fresh_sandbox)
    message = build.validate_message(copy.deepcopy(samples.SAMPLES[name]))
    [request] = transport.build_requests(message, ["+46732001122"], correlation_ids=["row-17"])
    [sent] = transport.send(request)
    assert sent.recipient == "+46732001122" and sent.state == "queued" and len(sent.message_id) == 26
    [record] = conversation_app.messages
    assert record["message_id"] == sent.message_id
    assert record["body"]["correlation_id"] == "row-17"


def test_n_recipients_make_n_requests_in_order(fresh_sandbox, conversation_app) -> None:
    transport = _transport(fresh_sandbox)
    numbers = ["46700000001", "46700000002", "46700000003"]
    requests = transport.build_requests(build.text("Hi"), numbers, correlation_ids=["1", "2", "3"])
    assert [r.recipients for r in requests] == [(n,) for n in numbers]
    ids = [transport.send(r)[0].message_id for r in requests]
    assert [m["identity"] for m in conversation_app.messages] == numbers
    assert len(set(ids)) == 3
    assert fresh_sandbox.count("POST", "messages:send") == 3
    assert conversation_app.token_requests == 1


def test_get_message_for_reconciliation(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox)
    sent = client.send_message(_body(client, build.text("Hello")))
    found = client.get_message(sent.message_id)
    assert found["id"] == sent.message_id
    assert found["app_message"] == {"text_message": {"text": "Hello"}}
    assert found["metadata"] == "row-1"
    with pytest.raises(ConversationNotFound, match="Message NOPE not found"):
        client.get_message("NOPE")


def _body(client, message, recipient="46732001122"):
    from django_sinch_whatsapp.transports.conversation import wire

    return wire.send_body(
        project_id=client.project_id, app_id=client.app_id, message=message, recipient=recipient, correlation_id="row-1"
    )


def test_mark_as_read_sends_a_read_message_event(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox)
    inbound_id = conversation_app.inject_inbound(PROJECT, APP, "+46732001122", text="Hi")
    answer = client.mark_as_read(inbound_id, "+46732001122")
    assert answer["event_id"]
    assert conversation_app.state.inbound[inbound_id]["read"] is True
    [event] = conversation_app.state.events
    assert event["event"] == {"read_message_event": {"message_id": inbound_id}}


def test_capability_query_is_answered_by_a_callback(fresh_sandbox, conversation_app, webhook_receiver) -> None:
    url, received = webhook_receiver
    conversation_app.register_app(PROJECT, APP, region="us", webhook_url=url, webhook_secret="s")
    conversation_app.set_capability(PROJECT, APP, "46700000009", capable=False)
    answer = make_client(fresh_sandbox).query_capability("+46700000009", "lookup-1")
    assert answer["request_id"] == "lookup-1"
    assert fresh_sandbox.wait_for_callbacks(5)
    [body] = received.bodies()
    assert body["capability_notification"]["capability_status"] == "NO_CAPABILITY"
    assert body["capability_notification"]["request_id"] == "lookup-1"


def test_wrong_region_answers_404_with_the_region_hint(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox, region="eu")
    with pytest.raises(ConversationNotFound) as caught:
        client.send_message(_body(client, build.text("Hi")))
    error = caught.value
    assert error.status_code == 404
    assert "not found in project" in error.message
    assert "NOT_FOUND" in error.details
    assert "Wrong region or project/app id?" in str(error)
    assert error.method == "POST" and error.path == f"/v1/projects/{PROJECT}/messages:send"


@pytest.mark.contract_exempt(reason="sends a body Sinch refuses, to see the 400 mapping")
def test_validation_error_keeps_sinchs_message_and_field(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox)
    body = _body(client, build.text("Hi"))
    body["message"] = {"text_message": {"text": ""}}
    with pytest.raises(SinchBadRequest) as caught:
        client.send_message(body)
    assert caught.value.message == "Invalid argument: message.text_message.text: is required"
    assert "INVALID_ARGUMENT" in caught.value.details
    assert "field_violations" in caught.value.details


def test_wrong_secret_is_unauthorized_without_showing_it(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox, key_secret="wrong-secret-value")
    with pytest.raises(ConversationUnauthorized) as caught:
        client.send_message(_body(client, build.text("Hi")))
    assert caught.value.status_code == 401
    for text in (str(caught.value), repr(caught.value), repr(client), repr(client.tokens), repr(client.tokens.key)):
        assert "wrong-secret-value" not in text and KEY_SECRET not in text


def test_key_of_another_project_is_forbidden(fresh_sandbox, conversation_app) -> None:
    conversation_app.register_key("other-key", "other-secret", project_id="other-project")
    client = make_client(fresh_sandbox, key_id="other-key", key_secret="other-secret")
    with pytest.raises(ConversationForbidden, match="may not use project"):
        client.send_message(_body(client, build.text("Hi")))


def test_429_on_send_is_retried_then_succeeds(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox)
    client.tokens.token()  # the fault below is for the API call, not the token endpoint
    fresh_sandbox.faults.fail_next(2, status=429, path_contains="messages:send")
    assert client.send_message(_body(client, build.text("Hi"))).message_id
    assert fresh_sandbox.count("POST", "messages:send") == 3


def test_503_on_send_is_not_repeated(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox)
    client.tokens.token()
    fresh_sandbox.faults.fail_next(1, status=503, path_contains="messages:send")
    with pytest.raises(SinchUnavailable):
        client.send_message(_body(client, build.text("Hi")))
    assert fresh_sandbox.count("POST", "messages:send") == 1


def test_dropped_connection_on_send_is_ambiguous_and_not_resent(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox)
    client.tokens.token()
    fresh_sandbox.faults.drop_next(1, path_contains="messages:send")
    with pytest.raises(SinchRequestMayHaveBeenSent):
        client.send_message(_body(client, build.text("Hi")))
    assert fresh_sandbox.count("POST", "messages:send") == 1


def test_get_is_retried_after_a_503(fresh_sandbox, conversation_app) -> None:
    client = make_client(fresh_sandbox)
    sent = client.send_message(_body(client, build.text("Hi")))
    fresh_sandbox.faults.fail_next(1, status=503, path_contains="/messages/")
    assert client.get_message(sent.message_id)["id"] == sent.message_id


def test_features_of_the_conversation_transport(fresh_sandbox, conversation_app) -> None:
    transport = _transport(fresh_sandbox)
    for feature in (
        Feature.STICKERPACKS,
        Feature.BLACKLIST,
        Feature.CALLBACK_STORE,
        Feature.MEDIA_PROVIDERS,
        Feature.GROUPS,
    ):
        with pytest.raises(FeatureNotSupported, match=f"{feature} is not available on the 'conversation' transport"):
            transport.require(feature)
    for feature in (Feature.CAPABILITY, Feature.MARK_AS_READ, Feature.MESSAGE_LOOKUP):
        transport.require(feature)
    assert transport.recipients_per_request == 1


def test_signed_delivery_reports_reach_the_webhook(fresh_sandbox, conversation_app, webhook_receiver) -> None:
    url, received = webhook_receiver
    conversation_app.register_app(PROJECT, APP, region="us", webhook_url=url, webhook_secret="hook-secret")
    transport = _transport(fresh_sandbox)
    [request] = transport.build_requests(build.text("Hi"), ["46732001122"], correlation_ids=["row-9"])
    [sent] = transport.send(request)
    assert wait_for(lambda: len(received.posts) == 3, timeout=5)
    statuses = [b["message_delivery_report"]["status"] for b in received.bodies()]
    assert statuses == ["QUEUED_ON_CHANNEL", "DELIVERED", "READ"]
    for raw, headers in received.posts:
        assert transport.verify_signature(headers, raw, [("current", "hook-secret")]) == "current"
        body = __import__("json").loads(raw)
        assert body["message_delivery_report"]["message_id"] == sent.message_id
        assert body["message_delivery_report"]["metadata"] == "row-9" and body["correlation_id"] == "row-9"


def test_injected_inbound_arrives_signed_and_parses(fresh_sandbox, conversation_app, webhook_receiver) -> None:
    url, received = webhook_receiver
    conversation_app.register_app(PROJECT, APP, region="us", webhook_url=url, webhook_secret="hook-secret")
    transport = _transport(fresh_sandbox)
    message_id = conversation_app.inject_inbound(PROJECT, APP, "+46732001122", text="Hello bot", reply_to="OUT-1")
    assert wait_for(lambda: len(received.posts) == 1, timeout=5)
    [(raw, headers)] = received.posts
    assert transport.verify_signature(headers, raw, [("old", "x"), ("new", "hook-secret")]) == "new"
    [inbound] = transport.parse_callback(__import__("json").loads(raw)).notifications
    assert (inbound.message_id, inbound.text, inbound.from_e164) == (message_id, "Hello bot", "+46732001122")
    assert inbound.replying_to_message_id == "OUT-1"


def test_failed_number_gets_a_failed_report(fresh_sandbox, conversation_app, webhook_receiver) -> None:
    url, received = webhook_receiver
    conversation_app.register_app(PROJECT, APP, region="us", webhook_url=url, webhook_secret="k")
    conversation_app.set_capability(PROJECT, APP, "46700000001", capable=False)
    transport = _transport(fresh_sandbox)
    [request] = transport.build_requests(build.text("Hi"), ["46700000001"])
    transport.send(request)
    assert wait_for(lambda: len(received.posts) == 2, timeout=5)
    states = [transport.parse_callback(b).statuses[0].state for b in received.bodies()]
    assert states == ["dispatched", "failed"]


def test_debug_logging_never_shows_the_secret_or_the_token(fresh_sandbox, conversation_app, caplog) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="django_sinch_whatsapp")
    client = make_client(fresh_sandbox, log_http=True)
    client.send_message(_body(client, build.text("Hi")))
    token = client.tokens.token()
    assert "messages:send" in caplog.text  # the request was logged ...
    assert KEY_SECRET not in caplog.text and token not in caplog.text  # ... without the secrets
    assert token not in repr(client) and token not in repr(client.tokens)


def test_from_settings_reads_timeouts_retries_and_token_settings(fresh_sandbox, conversation_app, settings) -> None:
    from django_sinch_whatsapp.transports.conversation.auth import AccessKey
    from django_sinch_whatsapp.transports.conversation.client import ConversationClient

    settings.SINCH_WHATSAPP = {
        "CONNECT_TIMEOUT": 2.5,
        "READ_TIMEOUT": 7.0,
        "RETRY_TOTAL": 1,
        "CONVERSATION_TOKEN_REFRESH_MARGIN": 60,
        "CONVERSATION_TOKEN_RETRIES": 2,
    }
    client = ConversationClient.from_settings(
        project_id=PROJECT, app_id=APP, key=AccessKey("key-6a7b8c9d", KEY_SECRET), base_url=conversation_app.url("us")
    )
    assert client.timeout == (2.5, 7.0) and client.retry.total == 1
    assert client.tokens.refresh_margin == 60 and client.tokens.retry.total == 2
    assert client.tokens.token_url == conversation_app.url("us") + "/oauth2/token"
    assert client.send_message(_body(client, build.text("Hi"))).message_id


def test_hosts_per_region_without_override(settings) -> None:
    from django_sinch_whatsapp.transports.conversation.client import base_url_for, token_url_for

    assert base_url_for("br") == "https://br.conversation.api.sinch.com"
    assert token_url_for() == "https://auth.sinch.com/oauth2/token"
    with pytest.raises(ValueError, match="region is 'us1'; the Conversation API regions are br, eu, us"):
        base_url_for("us1")
