"""docs/howto/proxy.rst: the webhook verifies the exact bytes; PUBLIC_BASE_URL, not the Host, makes the URLs."""

from __future__ import annotations

import json

import pytest

from tests.webhook_helpers import signed_headers, status_payload


@pytest.mark.django_db
def test_the_signature_covers_the_exact_bytes(bot, client):
    payload = status_payload("m-1", "delivered")
    # [start-raw-body]
    sent_by_sinch = json.dumps(payload).encode()
    headers = signed_headers(sent_by_sinch)  # Sinch's signature headers over those bytes

    # A proxy that re-encodes the JSON (other spacing, other key order) changes the bytes: 403.
    re_encoded = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    print(client.post(bot.callback_path, re_encoded, content_type="application/json", **headers).status_code)  # 403

    # The bytes as Sinch sent them verify, and are stored as they came.
    print(client.post(bot.callback_path, sent_by_sinch, content_type="application/json", **headers).status_code)  # 200
    # [end-raw-body]
    assert client.post(bot.callback_path, re_encoded, content_type="application/json", **headers).status_code == 403
    from django_sinch_whatsapp.models import CallbackEvent

    assert bytes(CallbackEvent.objects.get().body) == sent_by_sinch


@pytest.mark.django_db
def test_the_public_url_comes_from_the_setting_not_from_the_request(bot, client, settings):
    # [start-public-url]
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PUBLIC_BASE_URL": "https://api.example.com"}

    # Whatever Host the proxy passes on, the URL given to Sinch is built from PUBLIC_BASE_URL.
    print(bot.callback_url)  # https://api.example.com/sinch-whatsapp/callbacks/<webhook id>/
    # [end-public-url]
    assert bot.callback_url == f"https://api.example.com/sinch-whatsapp/callbacks/{bot.webhook_id}/"
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PUBLIC_BASE_URL": ""}
    assert bot.callback_url == ""  # unset: messages carry no callback, Sinch uses the one set at Sinch


@pytest.mark.django_db
def test_a_body_over_the_limit_is_refused_before_it_is_stored(bot, client, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "MAX_CALLBACK_BODY_BYTES": 1024}
    body = json.dumps({**status_payload("m-1", "delivered"), "padding": "x" * 2000}).encode()
    answer = client.post(bot.callback_path, body, content_type="application/json", **signed_headers(body))
    assert answer.status_code == 400 and "MAX_CALLBACK_BODY_BYTES" in answer.json()["detail"]
