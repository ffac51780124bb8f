"""docs/tutorials/conversation.rst: a Conversation API bot created through the API, then a send."""

from __future__ import annotations

import pytest

from tests.conversation_helpers import APP, KEY_ID, KEY_SECRET, PROJECT, WEBHOOK_SECRET


@pytest.mark.django_db(transaction=True)
def test_a_conversation_bot_is_created_through_the_api_and_sends(
    api_user, organization, conversation_app, fresh_sandbox, settings
):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PUBLIC_BASE_URL": "https://example.com"}
    project_id, app_id, key_id, key_secret, webhook_secret = PROJECT, APP, KEY_ID, KEY_SECRET, WEBHOOK_SECRET
    # [start-conversation]
    from rest_framework.test import APIClient

    api = APIClient()
    api.login(username="alice", password="pw-alice")

    created = api.post(
        "/api/sinch-whatsapp/bots/",
        {
            "tenant": organization.pk,
            "name": "Acme support",
            "transport": "conversation",  # the default, "whatsapp", is the standalone API
            "project_id": project_id,  # Sinch dashboard: the project ...
            "app_id": app_id,  # ... the Conversation app holding the WhatsApp channel ...
            "key_id": key_id,  # ... and an access key (Settings > Access keys)
            "key_secret": key_secret,  # write-only: never in any answer
            "conversation_region": "us",  # where the app lives: us, eu or br
            "callback_key": webhook_secret,  # the app's webhook secret
            "base_url_override": fresh_sandbox.conversation.url("us"),  # the sandbox stands in for Sinch
        },
        format="json",
    )
    bot = created.json()
    print(created.status_code, bot["transport"], bot["callback_url"].startswith("https://example.com/"))
    # 201 conversation True   <- give callback_url to the app's webhook (trigger MESSAGE_DELIVERY, MESSAGE_INBOUND)

    sent = api.post(
        f"/api/sinch-whatsapp/bots/{bot['id']}/send/",
        {"to": ["+46 73-200 11 22"], "text": "Your order ships today.", "allow_outside_window": True},
        format="json",
    )
    print(sent.status_code, sent.json()["messages"][0]["state"])
    # 201 queued

    sticker = api.post(
        f"/api/sinch-whatsapp/bots/{bot['id']}/send/",
        {"to": ["46732001122"], "message": {"type": "sticker", "url": "https://example.com/s.webp"}},
        format="json",
    )
    print(sticker.status_code)
    # 400   <- stickers (and stickerpacks, the blacklist, groups ...) are the standalone API's only
    # [end-conversation]
    assert created.status_code == 201, created.content
    assert bot["transport"] == "conversation" and bot["callback_url"].startswith("https://example.com/")
    assert KEY_SECRET not in created.content.decode() and WEBHOOK_SECRET not in created.content.decode()
    assert sent.status_code == 201, sent.content
    assert sent.json()["messages"][0]["state"] == "queued" and sent.json()["messages"][0]["sinch_message_id"]
    assert sticker.status_code == 400, sticker.content
    requests_sent = [e for e in fresh_sandbox.requests_log if e["path"].endswith("/messages:send")]
    assert len(requests_sent) == 1


@pytest.mark.django_db(transaction=True)
def test_what_the_conversation_transport_refuses(conversation_bot, api_user):
    bot = conversation_bot
    # [start-not-mapped]
    from django_sinch_whatsapp import services
    from django_sinch_whatsapp.client import messages
    from django_sinch_whatsapp.exceptions import MessageValidationError
    from django_sinch_whatsapp.transports.errors import FeatureNotSupported

    legacy_only = {
        "blacklist": lambda: services.list_blacklist(bot),
        "stickerpacks": lambda: services.sync_stickerpacks(bot),
        "media providers": lambda: services.sync_media_providers(bot),
        "groups": lambda: services.send_text(bot, ["group:4711"], "Hello"),
        "the deprecated opt-out endpoint": lambda: services.opt_out(bot, ["46732001122"], deprecated_endpoint=True),
    }
    for name, call in legacy_only.items():
        try:
            call()
        except FeatureNotSupported as err:
            print(f"{name}: {err}")
    # blacklist: blacklist is not available on the 'conversation' transport; it exists on the whatsapp transport
    # ... one line each; nothing was recorded or sent

    # A message the Conversation wire cannot say is refused before any row, naming the field:
    try:
        services.send_message(bot, ["46732001122"], messages.sticker(url="https://example.com/s.webp"))
    except MessageValidationError as err:
        print(err)  # message.type: stickers are not available on the Conversation API (...)
    # [end-not-mapped]
    refused = []
    for name, call in legacy_only.items():
        with pytest.raises(FeatureNotSupported) as caught:
            call()
        assert caught.value.transport == "conversation", name
        refused.append(name)
    assert refused == list(legacy_only)
    assert not bot.outbound_messages.exists()
    # The API answers the same refusal in its one error shape.
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(api_user)
    answer = api.get(f"/api/sinch-whatsapp/bots/{bot.pk}/blacklist/")
    error = answer.json()["error"]
    assert answer.status_code == 400 and error["code"] == "feature_not_supported", answer.content
    assert error["transport"] == "conversation" and error["feature"] == "blacklist"
