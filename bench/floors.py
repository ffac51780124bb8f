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

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

RAW_TABLE = "bench_raw_callback"
CREATE_RAW_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {RAW_TABLE} "
    "(id bigserial PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now(), nonce text NOT NULL, body bytea NOT NULL)"
)


@csrf_exempt
def hmac_insert(request: HttpRequest) -> HttpResponse:
    body = request.body
    nonce = request.headers.get("sinch-whatsapp-callback-signature-nonce", "")
    signature = request.headers.get("sinch-whatsapp-callback-signature", "")
    expected = hmac.new(settings.BENCH_CALLBACK_KEY.encode(), body + b"." + nonce.encode(), hashlib.sha256).digest()
    try:
        given = base64.b64decode(signature, validate=True)
    except ValueError:
        return HttpResponse(status=403)
    if not hmac.compare_digest(expected, given):
        return HttpResponse(status=403)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {RAW_TABLE} (nonce, body) VALUES (%s, %s)", [nonce, body])
    return HttpResponse(status=200)


@csrf_exempt
def bare_json(request: HttpRequest) -> HttpResponse:
    json.loads(request.body)
    return JsonResponse({"detail": "ok"})
