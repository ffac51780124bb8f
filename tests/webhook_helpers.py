"""Post callbacks to the webhook the way Sinch does."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django_sinch_whatsapp.callbacks.signature import sign

from .conftest import CALLBACK_KEY


def signed_headers(body: bytes, key: str = CALLBACK_KEY, *, nonce: str | None = None, encoding: str = "base64"):
    nonce = nonce or secrets.token_hex(16)
    return {
        "HTTP_SINCH_WHATSAPP_CALLBACK_SIGNATURE": sign(key, body, nonce, encoding=encoding),
        "HTTP_SINCH_WHATSAPP_CALLBACK_SIGNATURE_ALGORITHM": "HMAC_SHA_256",
        "HTTP_SINCH_WHATSAPP_CALLBACK_SIGNATURE_NONCE": nonce,
    }


def post_callback(client, bot, payload: Any = None, *, body: bytes | None = None, key: str | None = CALLBACK_KEY, **kw):
    if body is None:
        body = json.dumps(payload).encode()
    headers = signed_headers(body, key, **kw) if key else {}
    return client.post(bot.callback_path, data=body, content_type="application/json", **headers)


def status_payload(
    message_id: str,
    state: str,
    *,
    recipient: str = "+46732001122",
    status: str = "success",
    ts: str = "2020-05-02T18:40:42Z",
):
    return {
        "type": "whatsapp",
        "statuses": [
            {"status": status, "state": state, "message_id": message_id, "recipient": recipient, "timestamp": ts}
        ],
    }


def inbound_text_payload(message_id: str, text: str = "Hello bot", *, sender: str = "46732001122"):
    return {
        "type": "whatsapp",
        "contacts": [{"profile": {"name": "John Smith"}, "wa_id": sender}],
        "notifications": [
            {
                "from": sender,
                "to": "sinchbot",
                "message_id": message_id,
                "message": {"type": "text", "body": text},
                "timestamp": "2020-05-02T19:48:42Z",
            }
        ],
    }
