"""The webhook: verified before anything is stored, stored before processing, idempotent.

The tests that take ``kit`` run once per transport: the same rules over the standalone API's
callbacks and the Conversation API's (its own signature scheme and payloads, tests/transport_kits.py).
"""

from __future__ import annotations

import json

import pytest

from django_sinch_whatsapp import signals
from django_sinch_whatsapp.models import (
    CallbackEvent,
    Contact,
    InboundMessage,
    MessageState,
    OutboundMessage,
    StatusEvent,
)

from .webhook_helpers import inbound_text_payload, post_callback, signed_headers, status_payload

pytestmark = pytest.mark.django_db


def _sent(bot):
    return OutboundMessage.objects.create(
        bot=bot,
        recipient="46732001122",
        message_type="text",
        payload={"type": "text", "text": "hi"},
        sinch_message_id="01DPNXZ0WCF9XD19MH84XD0P62",
        state=MessageState.QUEUED,
    )


@pytest.fixture
def sent_message(bot):
    return _sent(bot)


@pytest.fixture
def any_sent_message(any_bot):
    """A queued message of ``any_bot`` (once per transport), waiting for its reports."""
    return _sent(any_bot)


@pytest.mark.parametrize("webhook_id", ["nope", "a%00b", "x" * 300])
def test_unknown_webhook_id_is_404_and_stores_nothing(client, bot, webhook_id):
    response = client.post(f"/sinch-whatsapp/callbacks/{webhook_id}/", data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert CallbackEvent.objects.count() == 0


def test_the_webhook_finds_its_bot_by_the_id_in_its_url(bot):
    from django_sinch_whatsapp.queries import bot_for_webhook

    found = bot_for_webhook(bot.webhook_id)
    assert found is not None and found.pk == bot.pk and found.signing_keys() == bot.signing_keys()


def test_the_bot_is_kept_for_a_few_seconds_and_forgotten_when_a_bot_changes(
    bot, django_assert_num_queries, monkeypatch
):
    from django_sinch_whatsapp import queries

    with django_assert_num_queries(1):
        first = queries.bot_for_webhook(bot.webhook_id)
    with django_assert_num_queries(0):
        again = queries.bot_for_webhook(bot.webhook_id)
    assert first is not None and again is not None and again.pk == bot.pk and again is not first
    again.name = "set by one request"
    assert queries.bot_for_webhook(bot.webhook_id).name == bot.name  # each caller gets its own copy

    bot.callback_key = "a-new-key"  # the operator rotates the key in this process: seen at once
    bot.save()
    with django_assert_num_queries(1):
        assert queries.bot_for_webhook(bot.webhook_id).signing_keys()[0] == ("current", "a-new-key")

    later = [0.0]
    monkeypatch.setattr(queries.time, "monotonic", lambda: 1e9 + later[0])
    queries.forget_bots()
    queries.bot_for_webhook(bot.webhook_id)
    type(bot).objects.filter(pk=bot.pk).update(name="changed elsewhere")  # another process: no signal here
    assert queries.bot_for_webhook(bot.webhook_id).name == bot.name
    later[0] = 5.01  # WEBHOOK_BOT_CACHE_SECONDS (5) later
    assert queries.bot_for_webhook(bot.webhook_id).name == "changed elsewhere"

    bot.delete()
    assert queries.bot_for_webhook(bot.webhook_id) is None


def test_a_cache_time_of_zero_reads_the_bot_for_every_callback(bot, settings, django_assert_num_queries):
    from django_sinch_whatsapp import queries

    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "WEBHOOK_BOT_CACHE_SECONDS": 0}
    with django_assert_num_queries(2):
        queries.bot_for_webhook(bot.webhook_id)
        queries.bot_for_webhook(bot.webhook_id)


def test_insert_row_needs_a_primary_key_set_in_python(bot):
    from django_sinch_whatsapp.callbacks.bulk import insert_row
    from django_sinch_whatsapp.models import Contact

    with pytest.raises(ValueError, match="primary key"):
        insert_row(Contact(bot=bot, number="+46732001122"))


def test_get_is_not_allowed(client, bot):
    assert client.get(bot.callback_path).status_code == 405


@pytest.mark.parametrize("encoding", ["base64", "hex"])
def test_signed_status_is_stored_then_applied(client, bot, sent_message, encoding):
    response = post_callback(client, bot, status_payload(sent_message.sinch_message_id, "delivered"), encoding=encoding)
    assert response.status_code == 200
    event = CallbackEvent.objects.get()
    assert event.processing_state == "processed"
    assert event.signature_verdict == "valid" and event.verified_with == "current"
    assert bytes(event.body) == json.dumps(status_payload(sent_message.sinch_message_id, "delivered")).encode()
    sent_message.refresh_from_db()
    assert sent_message.state == "delivered"
    assert StatusEvent.objects.get().callback_id == event.pk


def test_unsigned_callback_for_bot_with_key_is_403_and_stores_nothing(kit, client, any_bot, any_sent_message):
    body = kit.status_body(any_sent_message.sinch_message_id, "read")
    response = client.post(any_bot.callback_path, data=body, content_type="application/json")
    assert response.status_code == 403
    assert "unsigned callback for a bot with a signing key" in response.content.decode()
    assert CallbackEvent.objects.count() == 0 and StatusEvent.objects.count() == 0


def test_wrong_key_is_403_and_stores_nothing(kit, client, any_bot, any_sent_message):
    body = kit.status_body(any_sent_message.sinch_message_id, "read")
    response = kit.post(client, any_bot, body, key="wrong-key")
    assert response.status_code == 403
    assert CallbackEvent.objects.count() == 0


def test_unknown_algorithm_is_403(client, bot):
    body = json.dumps(status_payload("x", "read")).encode()
    headers = signed_headers(body)
    headers["HTTP_SINCH_WHATSAPP_CALLBACK_SIGNATURE_ALGORITHM"] = "HMAC_MD5"
    response = client.post(bot.callback_path, data=body, content_type="application/json", **headers)
    assert response.status_code == 403
    assert CallbackEvent.objects.count() == 0


def test_body_tampered_after_signing_is_403(client, bot):
    body = json.dumps(status_payload("x", "read")).encode()
    headers = signed_headers(body)
    response = client.post(
        bot.callback_path, data=body.replace(b"read", b"sent"), content_type="application/json", **headers
    )
    assert response.status_code == 403


def test_previous_key_verifies_during_rotation(client, make_bot):
    bot = make_bot(callback_key="new-key", previous_callback_key="old-key")
    response = post_callback(client, bot, status_payload("m1", "sent"), key="old-key")
    assert response.status_code == 200
    assert CallbackEvent.objects.get().verified_with == "previous"


def test_bot_without_key_is_refused_while_signatures_are_required(client, make_bot):
    bot = make_bot(callback_key="")
    assert post_callback(client, bot, status_payload("m1", "sent"), key=None).status_code == 403
    assert CallbackEvent.objects.count() == 0


def test_bot_without_key_accepted_when_project_allows_unsigned(client, make_bot, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "REQUIRE_SIGNED_CALLBACKS": False}
    bot = make_bot(callback_key="")
    assert post_callback(client, bot, status_payload("m1", "sent"), key=None).status_code == 200
    assert CallbackEvent.objects.get().signature_verdict == "unsigned"


def test_debug_does_not_relax_verification(client, bot, settings):
    settings.DEBUG = True
    assert post_callback(client, bot, status_payload("m1", "sent"), key=None).status_code == 403


def test_non_json_body_is_400_and_stores_nothing(client, bot):
    response = post_callback(client, bot, body=b"not json {")
    assert response.status_code == 400
    assert CallbackEvent.objects.count() == 0


def test_oversize_body_is_400_and_stores_nothing(client, bot, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "MAX_CALLBACK_BODY_BYTES": 100}
    response = post_callback(client, bot, status_payload("m" * 200, "sent"))
    assert response.status_code == 400
    assert CallbackEvent.objects.count() == 0


def test_json_that_is_not_a_callback_is_stored_and_answered_2xx(client, bot):
    response = post_callback(client, bot, {"hello": "world"})
    assert response.status_code == 200
    assert CallbackEvent.objects.get().processing_state == "uninterpreted"


def test_inbound_text_creates_message_contact_and_signal(kit, client, any_bot):
    received = []

    def receiver(sender, message, event, message_type, **kwargs):
        received.append((message.sinch_message_id, message_type, event.text))

    signals.inbound_message_received.connect(receiver)
    try:
        response = kit.post(client, any_bot, kit.inbound_body("in-1", "Hello bot"))
    finally:
        signals.inbound_message_received.disconnect(receiver)
    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert (inbound.text, inbound.from_e164, inbound.message_type) == ("Hello bot", "+46732001122", "text")
    contact = Contact.objects.get()
    assert contact.number == "+46732001122" and contact.last_inbound_at is not None
    if kit.name == "whatsapp":  # the Conversation API's message callback carries no profile name
        assert contact.profile_name == "John Smith"
    assert received == [("in-1", "text", "Hello bot")]


def test_same_callback_twice_changes_nothing_the_second_time(client, bot, sent_message):
    payload = inbound_text_payload("in-dup")
    payload["statuses"] = status_payload(sent_message.sinch_message_id, "delivered")["statuses"]
    changes = []
    signals.message_status_changed.connect(
        lambda **kw: changes.append(kw["message"].state), weak=False, dispatch_uid="t"
    )
    try:
        assert post_callback(client, bot, payload).status_code == 200
        assert post_callback(client, bot, payload).status_code == 200  # a fresh nonce: not a replay
    finally:
        signals.message_status_changed.disconnect(dispatch_uid="t")
    assert InboundMessage.objects.count() == 1
    assert StatusEvent.objects.count() == 1
    assert changes == ["delivered"]
    assert CallbackEvent.objects.count() == 2


def test_replayed_nonce_is_answered_without_reprocessing(kit, client, any_bot, any_sent_message):
    body = kit.status_body(any_sent_message.sinch_message_id, "delivered")
    headers = kit.headers(body, nonce="n-1")
    first = client.post(any_bot.callback_path, data=body, content_type="application/json", **headers)
    second = client.post(any_bot.callback_path, data=body, content_type="application/json", **headers)
    assert first.status_code == second.status_code == 200
    assert second.json()["detail"] == "Already received."
    assert CallbackEvent.objects.count() == 1
    assert CallbackEvent.objects.get().attempts == 1


def test_late_state_never_moves_back_but_is_kept(kit, client, any_bot, any_sent_message):
    for state in ("read", "delivered", "dispatched"):
        body = kit.status_body(any_sent_message.sinch_message_id, state)
        assert kit.post(client, any_bot, body).status_code == 200
    any_sent_message.refresh_from_db()
    assert any_sent_message.state == "read"
    assert list(any_sent_message.status_events.values_list("state", flat=True)) == ["read", "delivered", "dispatched"]


def test_status_for_unknown_message_is_kept_and_attached_later(kit, client, any_bot):
    bot = any_bot
    assert kit.post(client, bot, kit.status_body("later-id", "delivered")).status_code == 200
    orphan = StatusEvent.objects.get()
    assert orphan.message is None
    from django_sinch_whatsapp.callbacks.processing import attach_orphan_statuses

    message = OutboundMessage.objects.create(
        bot=bot,
        recipient="46732001122",
        message_type="text",
        payload={},
        sinch_message_id="later-id",
        state=MessageState.QUEUED,
    )
    assert attach_orphan_statuses(bot, ["later-id"]) == 1
    message.refresh_from_db()
    assert message.state == "delivered"
    assert message.status_events.count() == 1


def test_processing_error_is_recorded_answered_500_and_row_kept(kit, client, any_bot, any_sent_message):
    sent_message = any_sent_message

    def boom(**kwargs):
        raise RuntimeError("receiver bug")

    signals.status_received.connect(boom, dispatch_uid="boom")
    try:
        response = kit.post(client, any_bot, kit.status_body(sent_message.sinch_message_id, "read"))
    finally:
        signals.status_received.disconnect(dispatch_uid="boom")
    assert response.status_code == 500
    event = CallbackEvent.objects.get()
    assert event.processing_state == "failed"
    assert "receiver bug" in event.processing_error and "Traceback" in event.processing_error
    sent_message.refresh_from_db()
    assert sent_message.state == "queued"  # rolled back with the failed processing
    # Reprocessing (as the admin action does) applies it.
    from django_sinch_whatsapp.callbacks.processing import process_callback_event

    assert process_callback_event(event) == "processed"
    sent_message.refresh_from_db()
    assert sent_message.state == "read"


def test_inactive_bot_callbacks_are_still_verified_and_stored(client, make_bot):
    """Deactivation stops sending, not the record of what was sent (issue 7 item 2)."""
    bot = make_bot(is_active=False)
    assert post_callback(client, bot, status_payload("m", "sent")).status_code == 200
    assert CallbackEvent.objects.get().bot == bot
    assert post_callback(client, bot, status_payload("m", "sent"), key="wrong-key").status_code == 403
    assert CallbackEvent.objects.count() == 1


def test_reprocess_command_settles_failed_callbacks(client, bot, sent_message):
    from io import StringIO

    from django.core.management import call_command

    signals.status_received.connect(lambda **kw: 1 / 0, dispatch_uid="boom2", weak=False)
    try:
        assert post_callback(client, bot, status_payload(sent_message.sinch_message_id, "read")).status_code == 500
    finally:
        signals.status_received.disconnect(dispatch_uid="boom2")
    out = StringIO()
    call_command("sinch_whatsapp_reprocess_callbacks", stdout=out)
    assert "1 processed" in out.getvalue()
    sent_message.refresh_from_db()
    assert sent_message.state == "read"
    call_command("sinch_whatsapp_reprocess_callbacks", "--all", stdout=out)  # idempotent
    assert StatusEvent.objects.count() == 1


def test_error_notification_fires_its_own_signal_and_does_not_open_the_window(client, bot):
    import pathlib

    payload = json.loads((pathlib.Path(__file__).parent / "fixtures/callbacks/error_notification.json").read_text())
    seen = []
    signals.error_notification_received.connect(lambda **kw: seen.append(kw["details"]), dispatch_uid="err", weak=False)
    try:
        assert post_callback(client, bot, payload).status_code == 200
    finally:
        signals.error_notification_received.disconnect(dispatch_uid="err")
    assert seen and "quick reply" in seen[0]
    assert InboundMessage.objects.get().message_type == "error"
    assert Contact.objects.get().last_inbound_at is None


def test_report_for_an_unknown_outcome_settles_the_row(kit, client, any_bot):
    bot = any_bot
    row = OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={}, state=MessageState.UNKNOWN
    )
    # No id and no correlation id to match: the recipient is (the Conversation API's own match is tested
    # with its correlation_id in tests/test_conversation_webhook.py).
    assert kit.post(client, bot, kit.status_body("new-id", "delivered", recipient="46732001122")).status_code == 200
    row.refresh_from_db()
    assert (row.sinch_message_id, row.state) == ("new-id", "delivered")


def test_early_report_is_not_adopted_by_an_unknown_row_while_a_send_is_in_flight(client, bot):
    from django.utils import timezone

    unknown = OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={}, state=MessageState.UNKNOWN
    )
    in_flight = OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={}, dispatched_at=timezone.now()
    )
    assert post_callback(client, bot, status_payload("id-of-in-flight", "queued")).status_code == 200
    unknown.refresh_from_db()
    assert unknown.sinch_message_id is None and unknown.state == "unknown"
    assert StatusEvent.objects.get().message is None  # kept until the send saves its id
    in_flight.sinch_message_id = "id-of-in-flight"
    in_flight.save()
    from django_sinch_whatsapp.callbacks.processing import attach_orphan_statuses

    assert attach_orphan_statuses(bot, ["id-of-in-flight"]) == 1
    in_flight.refresh_from_db()
    assert in_flight.state == "queued"


def test_duplicate_report_fires_status_received_once(kit, client, any_bot, any_sent_message):
    seen, changes = [], []
    signals.status_received.connect(lambda **kw: seen.append(kw["event"].state), dispatch_uid="once", weak=False)
    signals.message_status_changed.connect(
        lambda **kw: changes.append((kw["previous_state"], kw["message"].state)), dispatch_uid="moved", weak=False
    )
    try:
        for _ in range(3):
            kit.post(client, any_bot, kit.status_body(any_sent_message.sinch_message_id, "delivered"))
    finally:
        signals.status_received.disconnect(dispatch_uid="once")
        signals.message_status_changed.disconnect(dispatch_uid="moved")
    assert seen == ["delivered"] and changes == [("queued", "delivered")]


def test_prune_keeps_recent_and_failed_callbacks_and_refuses_a_short_retention(client, bot, sent_message):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django.utils import timezone

    for state in ("sent", "delivered"):
        post_callback(client, bot, status_payload(sent_message.sinch_message_id, state))
    old, recent = CallbackEvent.objects.order_by("received_at")
    CallbackEvent.objects.filter(pk=old.pk).update(received_at=timezone.now() - timedelta(days=40))
    failed = CallbackEvent.objects.create(
        bot=bot,
        body=b"{}",
        signature_verdict="valid",
        processing_state="failed",
        received_at=timezone.now() - timedelta(days=40),
    )
    with pytest.raises(CommandError):
        call_command("sinch_whatsapp_prune_callbacks", "--days", "1")
    out = StringIO()
    call_command("sinch_whatsapp_prune_callbacks", stdout=out)
    assert "Deleted 1 callback(s)" in out.getvalue()
    assert set(CallbackEvent.objects.values_list("pk", flat=True)) == {recent.pk, failed.pk}
    assert StatusEvent.objects.count() == 2  # the history stays
