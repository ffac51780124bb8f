"""Bot secrets are encrypted at rest, decrypted only on reveal, never shown."""

from __future__ import annotations

import pickle

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from django_sinch_whatsapp.exceptions import SecretDecryptionError, SinchConfigurationError
from django_sinch_whatsapp.fields import Secret
from django_sinch_whatsapp.models import Bot

from .conftest import CALLBACK_KEY, TOKEN

pytestmark = pytest.mark.django_db


def _raw_columns(bot_pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT bearer_token, callback_key FROM sinch_whatsapp_bot WHERE id = %s", [bot_pk])
        return cursor.fetchone()


def test_columns_hold_ciphertext_and_reveal_gives_plaintext(bot):
    token_column, key_column = _raw_columns(bot.pk)
    assert TOKEN not in token_column and CALLBACK_KEY not in key_column
    assert token_column.startswith("gAAAA")  # a Fernet token
    fresh = Bot.objects.get(pk=bot.pk)
    assert fresh.bearer_token.reveal() == TOKEN
    assert fresh.callback_key.reveal() == CALLBACK_KEY


def test_secret_is_redacted_in_str_repr_and_model_repr(bot):
    fresh = Bot.objects.get(pk=bot.pk)
    for text in (str(fresh.bearer_token), repr(fresh.bearer_token), str(fresh), repr(fresh), repr(vars(fresh))):
        assert TOKEN not in text
        assert CALLBACK_KEY not in text


def test_pickling_carries_ciphertext_only(bot):
    data = pickle.dumps(Bot.objects.get(pk=bot.pk))
    assert TOKEN.encode() not in data
    assert pickle.loads(data).bearer_token.reveal() == TOKEN


def test_wrong_key_fails_loudly_and_never_returns_ciphertext(bot, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "ENCRYPTION_KEYS": [Fernet.generate_key().decode()]}
    fresh = Bot.objects.get(pk=bot.pk)  # loading does not decrypt
    with pytest.raises(SecretDecryptionError) as info:
        fresh.bearer_token.reveal()
    assert "gAAAA" not in str(info.value)


def test_key_rotation_old_key_still_decrypts(bot, settings):
    old = settings.SINCH_WHATSAPP["ENCRYPTION_KEYS"][0]
    new = Fernet.generate_key().decode()
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "ENCRYPTION_KEYS": [new, old]}
    fresh = Bot.objects.get(pk=bot.pk)
    assert fresh.bearer_token.reveal() == TOKEN
    from django.core.management import call_command

    call_command("sinch_whatsapp_rotate_keys", verbosity=0)
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "ENCRYPTION_KEYS": [new]}
    assert Bot.objects.get(pk=bot.pk).bearer_token.reveal() == TOKEN


def test_no_key_configured_is_a_configuration_error(organization, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "ENCRYPTION_KEYS": []}
    with pytest.raises(SinchConfigurationError):
        Bot.objects.create(tenant=organization, name="x", sinch_bot_id="x", bearer_token="t")


def test_empty_secret_is_falsy_and_stored_empty(make_bot):
    bot = make_bot(callback_key="")
    fresh = Bot.objects.get(pk=bot.pk)
    assert not fresh.callback_key
    assert _raw_columns(bot.pk)[1] == ""
    assert Secret(plaintext="x") == Secret(plaintext="x")


def test_assigned_plaintext_becomes_a_secret_at_once(organization):
    bot = Bot(tenant=organization, name="x", sinch_bot_id="x", bearer_token="plain-token")
    assert isinstance(bot.bearer_token, Secret)
    assert str(bot.bearer_token) == "********" and bot.bearer_token.reveal() == "plain-token"
    bot.save()
    assert bot.bearer_token.reveal() == "plain-token"
    assert "plain-token" not in repr(vars(bot))
