"""docs/howto/rotate-keys.rst: a new encryption key without downtime, and a new callback signing key."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.conftest import CALLBACK_KEY
from tests.webhook_helpers import signed_headers, status_payload


@pytest.mark.django_db
def test_a_new_encryption_key(make_bot, settings):
    whatsapp_bot = make_bot()
    conversation_bot = make_bot(
        name="Conversation",
        transport="conversation",
        sinch_bot_id="",
        bearer_token="",
        project_id="project-1",
        app_id="app-1",
        key_id="key-1",
        key_secret="access-key-secret-0123456789",
        conversation_region="us",
    )
    old_key = settings.SINCH_WHATSAPP["ENCRYPTION_KEYS"][0]
    SINCH_WHATSAPP = settings.SINCH_WHATSAPP
    # [start-new-key]
    from cryptography.fernet import Fernet

    new_key = Fernet.generate_key().decode()  # keep it where your other secrets live

    # 1. The new key first, the old one after it: everything still decrypts, new writes use the new key.
    SINCH_WHATSAPP = {**SINCH_WHATSAPP, "ENCRYPTION_KEYS": [new_key, old_key]}
    # [end-new-key]
    settings.SINCH_WHATSAPP = SINCH_WHATSAPP
    # [start-rotate]
    from django_sinch_whatsapp.models import Bot

    # 2. Re-encrypt every stored secret with the first key.
    out = StringIO()
    call_command("sinch_whatsapp_rotate_keys", stdout=out)
    print(out.getvalue())  # Re-encrypted 4 secret(s) of 2 bot(s).
    # [end-rotate]
    assert out.getvalue().strip() == "Re-encrypted 4 secret(s) of 2 bot(s)."
    # [start-remove-old]
    # 3. Drop the old key and deploy again; `manage.py check` (E001, E002) checks the list.
    SINCH_WHATSAPP = {**SINCH_WHATSAPP, "ENCRYPTION_KEYS": [new_key]}
    # [end-remove-old]
    settings.SINCH_WHATSAPP = SINCH_WHATSAPP
    for bot in Bot.objects.all():
        for name in ("bearer_token", "callback_key", "key_secret"):
            secret = getattr(bot, name)
            if secret:
                assert secret.reveal()  # decrypts with the new key alone
    assert Bot.objects.get(pk=conversation_bot.pk).key_secret.reveal() == "access-key-secret-0123456789"
    assert Bot.objects.get(pk=whatsapp_bot.pk).callback_key.reveal() == CALLBACK_KEY


@pytest.mark.django_db
def test_a_new_callback_signing_key(bot, client, api_user):
    old_signed = json.dumps(status_payload("m-1", "delivered")).encode()
    new_signed = json.dumps(status_payload("m-2", "delivered")).encode()
    # [start-signing-key]
    from rest_framework.test import APIClient

    from django_sinch_whatsapp.models import CallbackEvent

    new_key = "the-new-signing-key-0123456789"
    api = APIClient()
    api.force_authenticate(api_user)

    # 1. The new key on the bot, the current one kept as the previous key (the admin's checkbox
    #    "Keep the current signing key as the previous key" does the same).
    api.patch(
        f"/api/sinch-whatsapp/bots/{bot.pk}/",
        {"callback_key": new_key, "previous_callback_key": CALLBACK_KEY},
        format="json",
    )
    # 2. Change the key at Sinch. Meanwhile callbacks signed with either key are accepted,
    #    and each stored callback says which key verified it.
    client.post(bot.callback_path, old_signed, content_type="application/json", **signed_headers(old_signed))
    client.post(bot.callback_path, new_signed, content_type="application/json", **signed_headers(new_signed, new_key))
    print({event.payload["statuses"][0]["message_id"]: event.verified_with for event in CallbackEvent.objects.all()})
    # {'m-1': 'previous', 'm-2': 'current'}

    # 3. Once no new callback is verified with the previous key, drop it (the admin's "Remove the
    #    previous signing key"): from then on only the new key verifies.
    api.patch(f"/api/sinch-whatsapp/bots/{bot.pk}/", {"previous_callback_key": ""}, format="json")
    # [end-signing-key]
    verified = {
        event.payload["statuses"][0]["message_id"]: event.verified_with for event in CallbackEvent.objects.all()
    }
    assert verified == {"m-1": "previous", "m-2": "current"}
    late = json.dumps(status_payload("m-3", "delivered")).encode()
    refused = client.post(bot.callback_path, late, content_type="application/json", **signed_headers(late))
    assert refused.status_code == 403
