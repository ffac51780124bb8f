"""Migration 0005: callbacks stored before it keep guarding against replays (their digests and the
fingerprint of the key that verified them are filled in), so an upgrade does not open a replay window."""

from __future__ import annotations

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from django_sinch_whatsapp.callbacks.verification import key_fingerprint
from django_sinch_whatsapp.models import CallbackEvent

from .conftest import CALLBACK_KEY, TOKEN

BEFORE = [("sinch_whatsapp", "0004_longer_status_state")]


@pytest.mark.django_db(transaction=True)
def test_callbacks_stored_before_the_migration_get_digests_and_key_fingerprints():
    executor = MigrationExecutor(connection)
    latest = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "sinch_whatsapp"]
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    organization = old.get_model("tenants", "Organization").objects.create(name="Acme")
    bot = old.get_model("sinch_whatsapp", "Bot").objects.create(
        tenant=organization, name="Old", sinch_bot_id="old-bot", bearer_token=TOKEN, callback_key=CALLBACK_KEY
    )
    Event = old.get_model("sinch_whatsapp", "CallbackEvent")
    Event.objects.create(bot=bot, body=b'{"a": 1}', signature_verdict="valid", verified_with="current", nonce="n-1")
    Event.objects.create(bot=bot, body=b"{}", signature_verdict="unsigned", nonce=None)

    executor = MigrationExecutor(connection)
    executor.migrate(latest)

    signed = CallbackEvent.objects.get(nonce="n-1")
    assert signed.body_digest == hashlib.sha256(b'{"a": 1}').hexdigest()
    assert signed.nonce_digest == hashlib.sha256(b"n-1").hexdigest()
    assert signed.key_fingerprint == key_fingerprint(CALLBACK_KEY)
    unsigned = CallbackEvent.objects.get(nonce__isnull=True)
    assert unsigned.nonce_digest is None and unsigned.key_fingerprint == f"unsigned:{bot.pk}"
