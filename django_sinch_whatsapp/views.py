"""The webhook Sinch posts callbacks to: one URL per bot, verified, stored first."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from .callbacks.processing import process_callback_event
from .callbacks.signature import (
    ALGORITHM_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    SignatureError,
    SignatureHeaders,
    verify,
)
from .conf import app_settings
from .exceptions import SecretDecryptionError
from .models import Bot, CallbackEvent, ProcessingState, SignatureVerdict

logger = logging.getLogger("django_sinch_whatsapp.webhook")

#: Headers kept with each stored callback (the signature headers, for audit and replay).
STORED_HEADERS = ("Content-Type", "User-Agent", SIGNATURE_HEADER, ALGORITHM_HEADER, NONCE_HEADER)


def _answer(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class CallbackView(View):
    """``POST`` only. 404 unknown bot, 403 bad signature, 400 not JSON or too large.

    The raw callback is committed before processing, so an error in our own
    processing never loses it: it is recorded on the row, answered 500 (Sinch
    retries) and can be reprocessed from the admin.
    """

    http_method_names = ["post"]

    def post(self, request: HttpRequest, webhook_id: str) -> HttpResponse:
        bot = Bot.objects.filter(webhook_id=webhook_id, is_active=True).first()
        if bot is None:
            return _answer(404, "Unknown webhook.")
        limit = int(app_settings.MAX_CALLBACK_BODY_BYTES)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return _answer(400, f"Body larger than {limit} bytes.")
        body = request.body
        if len(body) > limit:
            return _answer(400, f"Body larger than {limit} bytes.")

        try:
            verdict, key_label, nonce = self._verify(bot, request, body)
        except SignatureError as err:
            logger.warning("Callback for bot %s refused: %s", bot.pk, err)
            return _answer(403, "Signature verification failed.")
        except SecretDecryptionError:
            logger.error("Callback for bot %s refused: its signing key cannot be decrypted", bot.pk)
            return _answer(403, "Signature verification failed.")

        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _answer(400, "Body is not JSON.")

        if nonce:
            replay = CallbackEvent.objects.filter(bot=bot, nonce=nonce).first()
            if replay is not None:
                return self._replayed(replay)
        event = CallbackEvent(
            bot=bot,
            body=body,
            headers=self._headers(request),
            payload=payload,
            remote_addr=request.META.get("REMOTE_ADDR") or None,
            signature_verdict=verdict,
            verified_with=key_label,
            nonce=nonce or None,
        )
        try:
            with transaction.atomic():
                event.save(force_insert=True)
        except IntegrityError:
            replay = CallbackEvent.objects.filter(bot=bot, nonce=nonce).first()
            if replay is None:
                raise
            return self._replayed(replay)
        return self._process(event)

    def _verify(self, bot: Bot, request: HttpRequest, body: bytes) -> tuple[str, str, str]:
        headers = SignatureHeaders.from_headers(request.headers)
        keys = bot.signing_keys()
        if keys:
            if headers is None:
                raise SignatureError("unsigned callback for a bot with a signing key")
            return SignatureVerdict.VALID, verify(headers, body, keys), headers.nonce
        if app_settings.REQUIRE_SIGNED_CALLBACKS:
            raise SignatureError("bot has no signing key and REQUIRE_SIGNED_CALLBACKS is on")
        # Accepted unsigned (the project chose so); a nonce still helps dedupe.
        return SignatureVerdict.UNSIGNED_ACCEPTED, "", headers.nonce if headers else ""

    def _headers(self, request: HttpRequest) -> dict[str, Any]:
        return {name: request.headers[name] for name in STORED_HEADERS if name in request.headers}

    def _replayed(self, event: CallbackEvent) -> HttpResponse:
        if event.processing_state in (ProcessingState.FAILED, ProcessingState.PENDING):
            # Sinch's retry of a callback we failed to process: try again (idempotent).
            return self._process(event)
        return _answer(200, "Already received.")

    def _process(self, event: CallbackEvent) -> HttpResponse:
        try:
            state = process_callback_event(event)
        except Exception:
            logger.exception("Processing callback %s failed", event.pk)
            return _answer(500, "Stored; processing failed and will be retried.")
        return _answer(200, "Stored." if state == ProcessingState.PROCESSED else "Stored; not understood.")
