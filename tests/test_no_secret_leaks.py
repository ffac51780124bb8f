"""The token and the signing key appear nowhere a person or a log can see them.

One flow touches every surface (API, admin, DEBUG logs of every logger,
exception texts and reprs) with a wrong and a right token, and greps for
the secrets and their ciphertext.
"""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from rest_framework.test import APIClient

from django_sinch_whatsapp.clients import client_for_bot
from django_sinch_whatsapp.exceptions import SinchAPIError
from django_sinch_whatsapp.models import Bot, OutboundMessage

from .webhook_helpers import inbound_text_payload, post_callback

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "tok-VERY-secret-0b5e7a"
WRONG_TOKEN = "tok-WRONG-secret-99d1c"
KEY = "key-VERY-secret-4c2f8e"


def test_secrets_never_leak(admin_client, api_user, make_bot, fresh_sandbox, caplog, client):
    good = make_bot(
        sinch_bot_id="good", bearer_token=TOKEN, callback_key=KEY, base_url_override=fresh_sandbox.region_url("us")
    )
    bad = make_bot(
        sinch_bot_id="bad", bearer_token=WRONG_TOKEN, callback_key=KEY, base_url_override=fresh_sandbox.region_url("us")
    )
    fresh_sandbox.register_bot("good", TOKEN, region="us", callback_key=KEY)
    fresh_sandbox.register_bot("bad", TOKEN, region="us", callback_key=KEY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT bearer_token, callback_key FROM sinch_whatsapp_bot")
        ciphertexts = [value for row in cursor.fetchall() for value in row if value]
    secrets = [TOKEN, WRONG_TOKEN, KEY, *ciphertexts]
    seen: list[str] = []

    api = APIClient()
    api.force_authenticate(api_user)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("django_sinch_whatsapp").setLevel(logging.DEBUG)
        # Sends: one accepted, one refused with 401; HTTP logging on.
        from django.conf import settings
        from django.test import override_settings

        with override_settings(SINCH_WHATSAPP={**settings.SINCH_WHATSAPP, "LOG_HTTP": True}):
            for bot in (good, bad):
                response = api.post(
                    f"/api/sinch-whatsapp/bots/{bot.pk}/send/",
                    {"to": ["46732001122"], "text": "hi", "allow_outside_window": True},
                    format="json",
                )
                seen.append(response.content.decode())
            try:
                client_for_bot(bad).opt_in(["46732001122"])
            except SinchAPIError as err:
                seen += [str(err), repr(err), str(err.as_dict())]
            seen.append(repr(client_for_bot(good)))
            seen.append(repr(client_for_bot(good)._session.auth))
        assert post_callback(client, good, inbound_text_payload("in-1"), key=KEY).status_code == 200
        for path in (
            "/api/sinch-whatsapp/bots/",
            f"/api/sinch-whatsapp/bots/{good.pk}/",
            "/api/sinch-whatsapp/messages/",
        ):
            seen.append(api.get(path).content.decode())
        for path in (
            "/admin/sinch_whatsapp/bot/",
            f"/admin/sinch_whatsapp/bot/{good.pk}/change/",
            f"/admin/sinch_whatsapp/bot/{bad.pk}/change/",
            "/admin/sinch_whatsapp/outboundmessage/",
            f"/admin/sinch_whatsapp/outboundmessage/{OutboundMessage.objects.filter(bot=bad).get().pk}/change/",
            "/admin/sinch_whatsapp/callbackevent/",
        ):
            response = admin_client.get(path)
            assert response.status_code == 200, path
            seen.append(response.content.decode())
    fresh = Bot.objects.get(pk=good.pk)
    seen += [str(fresh), repr(fresh), repr(vars(fresh)), str(fresh.bearer_token), repr(fresh.callback_key)]
    seen.append(caplog.text)
    assert '"sinch_status":401' in "".join(seen)  # the refused send was really exercised
    assert "Bearer ********" in caplog.text  # and HTTP logging really ran
    haystack = "\n".join(seen)
    for secret in secrets:
        assert secret not in haystack
    # The error text people see still says what went wrong.
    row = OutboundMessage.objects.get(bot=bad)
    assert row.error_status_code == 401 and row.error_message


def test_http_log_hides_media_provider_credentials(sandbox_bot, fresh_sandbox, settings, caplog):
    from django_sinch_whatsapp import services as svc

    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "LOG_HTTP": True}
    with caplog.at_level(logging.DEBUG, logger="django_sinch_whatsapp"):
        svc.add_media_provider(sandbox_bot, "files_basic", username="user", password="pw-VERY-secret-1")
        svc.add_media_provider(sandbox_bot, "files_bearer", bearer="bearer-VERY-secret-2")
        svc.sync_media_providers(sandbox_bot)  # GET answers carry the credentials back
    assert "files_basic" in caplog.text and "********" in caplog.text
    assert "pw-VERY-secret-1" not in caplog.text and "bearer-VERY-secret-2" not in caplog.text
