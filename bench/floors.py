"""The webhook's floors, served by the same gunicorn app as the webhook.

``hmac_insert``: what any signed webhook must do at least: verify the HMAC over
the raw body (same scheme as Sinch: HMAC-SHA256 over ``body.nonce``) and INSERT
the raw body, in one autocommit statement. ``bare_json``: parse the body and answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

RAW_TABLE = "bench_raw_callback"
CREATE_RAW_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} "
    "(id bigserial PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now(), nonce text NOT NULL, body bytea NOT NULL)"
)


def _verified(request: HttpRequest) -> tuple[bytes, str] | None:
    """The body and nonce when the signature is Sinch's scheme over ``body.nonce`` with the bench key."""
    body = request.body
    nonce = request.headers.get("sinch-whatsapp-callback-signature-nonce", "")
    signature = request.headers.get("sinch-whatsapp-callback-signature", "")
    expected = hmac.new(settings.BENCH_CALLBACK_KEY.encode(), body + b"." + nonce.encode(), hashlib.sha256).digest()
    try:
        given = base64.b64decode(signature, validate=True)
    except ValueError:
        return None
    return (body, nonce) if hmac.compare_digest(expected, given) else None


@csrf_exempt
def hmac_insert(request: HttpRequest) -> HttpResponse:
    verified = _verified(request)
    if verified is None:
        return HttpResponse(status=403)
    body, nonce = verified
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {RAW_TABLE} (nonce, body) VALUES (%s, %s)", [nonce, body])
    return HttpResponse(status=200)


@csrf_exempt
def bare_json(request: HttpRequest) -> HttpResponse:
    json.loads(request.body)
    return JsonResponse({"detail": "ok"})


# What the webhook's guarantees cost at the least, written by hand for the bench's one shape of
# callback (delivery reports): the HMAC check, the JSON read, then in one round trip and one
# transaction the callback row (every column, its replay constraints), a history row per report
# and the forward-only state move. No models, no signals, no savepoint, no answer read back:
# not a webhook (it cannot report a failure, fire a signal or adopt an orphan), a measure of how
# far below the package's webhook any implementation of the same writes could go.
_CALLBACK_INSERT = (
    "INSERT INTO sinch_whatsapp_callbackevent (id, bot_id, body, headers, payload, remote_addr, "
    "signature_verdict, verified_with, key_fingerprint, nonce, nonce_digest, body_digest, nonce_reused, "
    "anomalies, processing_state, processing_error, attempts, received_at, processed_at) VALUES "
    "(%s, %s, %s, %s::jsonb, %s::jsonb, %s::inet, 'valid', 'current', %s, %s, %s, %s, false, '[]'::jsonb, "
    "'processed', '', 1, now(), now())"
)
_REPORT_WRITES = (
    "INSERT INTO sinch_whatsapp_statusevent (bot_id, message_id, sinch_message_id, state, status, details, "
    "recipient, occurred_at, received_at, callback_id, raw) SELECT %s, (SELECT id FROM "
    "sinch_whatsapp_outboundmessage WHERE bot_id = %s AND sinch_message_id = %s), %s, %s, %s, '', %s, %s, "
    "now(), %s, %s::jsonb ON CONFLICT DO NOTHING; "
    "UPDATE sinch_whatsapp_outboundmessage SET state = %s, sinch_status = %s, state_changed_at = now(), "
    "updated_at = now() WHERE bot_id = %s AND sinch_message_id = %s AND state IN ('accepted', 'queued', "
    "'dispatched', 'sent')"
)
_BOT_ID: list[int] = []


@csrf_exempt
def required_writes(request: HttpRequest) -> HttpResponse:
    verified = _verified(request)
    if verified is None:
        return HttpResponse(status=403)
    body, nonce = verified
    payload = json.loads(body)
    if not _BOT_ID:
        from django_sinch_whatsapp.models import Bot

        _BOT_ID.append(Bot.objects.values_list("pk", flat=True).order_by("pk")[0])
    bot = _BOT_ID[0]
    callback = uuid.uuid4()
    sql = ["BEGIN", _CALLBACK_INSERT]
    params: list[object] = [
        callback,
        bot,
        body,
        json.dumps(dict(request.headers)),
        body.decode(),
        request.META.get("REMOTE_ADDR"),
        "0" * 64,
        nonce,
        hashlib.sha256(nonce.encode()).hexdigest(),
        hashlib.sha256(body).hexdigest(),
    ]
    for status in payload["statuses"]:
        sql.append(_REPORT_WRITES)
        sid, state = status["message_id"], status["state"]
        params += [bot, bot, sid, sid, state, status["status"], status["recipient"], status["timestamp"]]
        params += [callback, json.dumps(status), state, status["status"], bot, sid]
    sql.append("COMMIT")
    with connection.cursor() as cursor:
        cursor.execute("; ".join(sql), params)
    return JsonResponse({"detail": "Stored."})
