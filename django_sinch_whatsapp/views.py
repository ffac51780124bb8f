"""The webhook Sinch posts callbacks to: one URL per bot, verified, stored and applied in one transaction.

The storage rule (DESIGN.md rule 5): a verified body is either stored (2xx;
kept as uninterpretable where it cannot be read; the raw bytes always) or
refused with 4xx before anything is stored, with the reason in the answer.
Never a 5xx for what Sinch sent: only our own processing failure answers
5xx, after the callback and the failure are committed, so Sinch retries and
the retry reprocesses the stored row.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from . import prepared as prepared_statements
from . import savepoints
from .callbacks.bulk import insert_statement, mark_saved
from .callbacks.decoding import NotJSON, decode_body, storable_headers
from .callbacks.processing import (
    FinishStatuses,
    Prepared,
    ReportsOfAnotherBot,
    apply_in_savepoint,
    attach_if_known,
    prepare,
    process_callback_event,
    statuses_sent_ahead,
)
from .callbacks.refusals import record_refusal
from .callbacks.reports_sql import needs_python
from .callbacks.signature import ALGORITHM_HEADER, NONCE_HEADER, SIGNATURE_HEADER, SignatureError
from .callbacks.statuses import InOneStatement, LockedFirst
from .callbacks.verification import Verification, key_fingerprint, verify_callback
from .clients import verifier_for_bot
from .conf import app_settings
from .exceptions import SecretDecryptionError
from .models import Bot, CallbackEvent, ProcessingState
from .models.callbacks import NONCE_SHOWN_CHARS
from .queries import bot_for_webhook
from .roundtrips import execute_together, transaction_not_started
from .transports.base import Transport

logger = logging.getLogger("django_sinch_whatsapp.webhook")

#: Headers kept with each stored callback (the signature headers, for audit and replay).
STORED_HEADERS = (
    "Content-Type",
    "User-Agent",
    SIGNATURE_HEADER,
    ALGORITHM_HEADER,
    NONCE_HEADER,
    # conversation-callbacks.md, "Signature" (the Conversation transport's scheme).
    "x-sinch-webhook-signature",
    "x-sinch-webhook-signature-nonce",
    "x-sinch-webhook-signature-timestamp",
    "x-sinch-webhook-signature-algorithm",
)
NONCE_REUSED = "nonce already used with another body for this signing key"


def _answer(status: int, detail: str) -> HttpResponse:
    return HttpResponse(_answer_body(detail), status=status, content_type="application/json")


@functools.lru_cache(maxsize=256)
def _answer_body(detail: str) -> bytes:
    """``{"detail": ...}`` as ``JsonResponse`` writes it, kept: the webhook answers a handful of texts."""
    return json.dumps({"detail": detail}).encode()


class Refused(Exception):
    """A callback refused before anything is stored: ``status`` (4xx) and the reason for the answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class CallbackView(View):
    """``POST`` only. 404 unknown bot; 403 bad signature; 400 not JSON or too large; else stored.

    Callbacks for an inactive bot are verified and stored like any other:
    deactivation stops sending, not the record of what was sent.
    """

    http_method_names = ["post"]

    def post(self, request: HttpRequest, webhook_id: str) -> HttpResponse:
        bot = bot_for_webhook(webhook_id)
        if bot is None:
            return _answer(404, "Unknown webhook.")
        transport = verifier_for_bot(bot)
        try:
            body = self._read_body(request)
            verification = self._verify(bot, transport, request, body)
            decoded = decode_body(body)
            if decoded.readable:
                self._check_addressed_to(bot, decoded.payload, verification)
        except NotJSON as err:
            return self._refuse(bot, request, Refused(400, str(err)))
        except Refused as refusal:
            return self._refuse(bot, request, refusal)

        prepared = prepare(
            decoded.payload,
            unreadable_reason="" if decoded.readable else decoded.anomalies[0],
            parse=transport.parse_callback,
        )
        event = self._new_event(bot, request, body, decoded.payload, verification, prepared)
        event.anomalies = [*decoded.anomalies, *prepared.anomalies, *event.anomalies]
        try:
            return self._store_and_apply(bot, event, prepared)
        except ReportsOfAnotherBot as err:  # the transaction rolled back: nothing stored
            return self._refuse(bot, request, Refused(403, f"{err}; not stored."))

    # --- before anything is stored -------------------------------------------------------------

    def _read_body(self, request: HttpRequest) -> bytes:
        """Read the body ourselves, under our own limit (not ``request.body``, which applies
        ``DATA_UPLOAD_MAX_MEMORY_SIZE`` first with another answer): one limit, one message."""
        limit = int(app_settings.MAX_CALLBACK_BODY_BYTES)
        too_large = Refused(400, f"Body larger than {limit} bytes (SINCH_WHATSAPP['MAX_CALLBACK_BODY_BYTES']).")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise too_large
        body = request.read(limit + 1)
        if len(body) > limit:
            raise too_large
        return body

    def _verify(self, bot: Bot, transport: Transport, request: HttpRequest, body: bytes) -> Verification:
        try:
            return verify_callback(bot, request.headers, body, transport=transport)
        except SignatureError as err:
            raise Refused(403, f"Signature verification failed: {err}.") from None
        except SecretDecryptionError:
            logger.error("Callback for bot %s refused: its signing key cannot be decrypted", bot.pk)
            raise Refused(403, "Signature verification failed: the bot's signing key cannot be decrypted.") from None

    def _check_addressed_to(self, bot: Bot, payload: Any, verification: Verification) -> None:
        """A notification names its bot in ``to`` (whatsapp-callback.md, "Notifications").

        A callback whose ``to`` names another of our bots that shares this
        signing key was signed for that bot: posted here it is a cross-bot
        replay, refused. Unknown names are kept (lenient, as parsing is).
        """
        entries = payload.get("notifications") if isinstance(payload, dict) else None
        if not isinstance(entries, list):
            return
        names = {e.get("to") for e in entries if isinstance(e, dict) and isinstance(e.get("to"), str)}
        names -= {bot.sinch_bot_id, ""}
        if not names or not verification.key_fingerprint:
            return
        for other in Bot.objects.filter(sinch_bot_id__in=list(names)[:20]).exclude(pk=bot.pk):
            try:
                fingerprints = {key_fingerprint(key) for _, key in other.signing_keys()}
            except SecretDecryptionError:
                continue
            if verification.key_fingerprint in fingerprints:
                raise Refused(403, f"Callback addressed to another bot (to={other.sinch_bot_id!r}); not stored.")

    def _refuse(self, bot: Bot, request: HttpRequest, refusal: Refused) -> HttpResponse:
        logger.warning("Callback for bot %s refused: %s", bot.pk, refusal.reason)
        record_refusal(bot, refusal.reason, request.META.get("REMOTE_ADDR"))
        return _answer(refusal.status, refusal.reason)

    # --- storing -------------------------------------------------------------------------------

    def _new_event(
        self,
        bot: Bot,
        request: HttpRequest,
        body: bytes,
        payload: Any,
        verification: Verification,
        prepared: Prepared,
    ) -> CallbackEvent:
        nonce = verification.nonce
        anomalies = []
        if len(nonce) > NONCE_SHOWN_CHARS:
            anomalies.append(f"nonce of {len(nonce)} characters; shown truncated, deduplicated by its digest")
        headers = {name: request.headers[name] for name in STORED_HEADERS if name in request.headers}
        return CallbackEvent(
            bot=bot,
            body=body,
            headers=storable_headers(headers),
            payload=payload,
            remote_addr=_ip_or_none(request.META.get("REMOTE_ADDR")),
            signature_verdict=verification.verdict,
            verified_with=verification.key_label,
            key_fingerprint=verification.key_fingerprint,
            nonce=storable_headers({"n": nonce[:NONCE_SHOWN_CHARS]})["n"] if nonce else None,
            nonce_digest=hashlib.sha256(nonce.encode("utf-8", "surrogatepass")).hexdigest() if nonce else None,
            body_digest=hashlib.sha256(body).hexdigest(),
            processing_state=prepared.state,
            processing_error=prepared.note,
            attempts=1,
            processed_at=timezone.now(),
            anomalies=anomalies,
        )

    def _store_and_apply(self, bot: Bot, event: CallbackEvent, prepared: Prepared) -> HttpResponse:
        """INSERT and apply in one transaction; a unique constraint, not a read, detects replays.

        How much of the work travels with the INSERT, most first (PostgreSQL;
        each step back is taken when the one before failed, and the failed
        transaction held nothing): the reports' statement and ``COMMIT``; the
        reports' statement; the messages' lock, the rest in Python.
        """
        error: BaseException | None = None
        orphans: list[str] = []
        reach, attempts = _WITH_COMMIT, 0
        while True:
            ahead = None
            try:
                with transaction.atomic():
                    fresh = transaction_not_started()  # its BEGIN goes with the INSERT
                    ahead = self._statuses_ahead(bot, event, prepared, reach, fresh)
                    name, finish = self._insert_and_begin_processing(event, prepared, ahead, fresh)
                    orphans, error = apply_in_savepoint(event, prepared, savepoint_name=name, statuses=finish)
                break
            except DatabaseError as err:
                if prepared_statements.lost(err):
                    # The server no longer has what this connection prepared: nothing ran; again, prepared anew.
                    prepared_statements.forget(err)
                    continue
                if isinstance(ahead, InOneStatement) and not _raised_by_insert_of(event, err):
                    # The reports' statement went with the INSERT and failed, or found reports that need
                    # Python before COMMIT: again with less of the work sent ahead.
                    reach = _STATEMENT if ahead.commits and needs_python(err) else _IN_PYTHON
                    continue
                if not isinstance(err, IntegrityError) or event.nonce_digest is None:
                    raise
                earlier = self._same_callback(event)
                if earlier is not None:
                    return self._replayed(bot, earlier)
                if not event.nonce_reused:
                    # Same key and nonce, another body: stored, and flagged.
                    event.nonce_reused = True
                    event.anomalies = [*event.anomalies, NONCE_REUSED]
                attempts += 1
                if attempts == 3:
                    raise
        if error is not None:
            return _answer(500, "Stored; processing failed and will be retried.")
        try:
            attach_if_known(bot, orphans)
        except Exception:  # committed and answered 2xx regardless: reconciliation and the next send attach them
            logger.exception("Attaching orphan reports of callback %s failed", event.pk)
        return _answer(200, self._stored_detail(event))

    @staticmethod
    def _statuses_ahead(
        bot: Bot, event: CallbackEvent, prepared: Prepared, reach: int, fresh: bool
    ) -> LockedFirst | InOneStatement | None:
        parsed = prepared.parsed
        if parsed is None or not parsed.statuses:
            return None
        # COMMIT may follow the reports' statement when the callback is nothing else (notifications,
        # capability answers and consents are applied in Python after it) and this block is the
        # transaction (not inside a caller's atomic(); the view opts out of ATOMIC_REQUESTS).
        only_reports = not (parsed.notifications or parsed.capabilities or parsed.consents)
        outermost = fresh and len(connection.atomic_blocks) == 1
        return statuses_sent_ahead(
            bot,
            parsed.statuses,
            callback=event,
            in_one_statement=reach >= _STATEMENT,
            commits=reach >= _WITH_COMMIT and only_reports and outermost,
        )

    def _insert_and_begin_processing(
        self, event: CallbackEvent, prepared: Prepared, ahead: LockedFirst | InOneStatement | None, fresh: bool
    ) -> tuple[str, FinishStatuses | None]:
        """INSERT the callback, open the savepoint processing runs in and send the reports' first
        statement (``ahead``), and ``COMMIT`` when it commits: statements that need no answer from one
        another, so one round trip where the driver allows (:mod:`.roundtrips`), with the transaction's
        ``BEGIN`` when ``fresh``. Returns the savepoint's name and what finishes the reports."""
        preparing = prepared_statements.Preparing()  # parsed and planned once per connection
        statements = preparing.statements(insert_statement(event))
        name = ""
        if prepared.parsed is not None:
            name = savepoints.new_name(first=fresh)
            statements.append((savepoints.create_sql(name), []))
            if isinstance(ahead, InOneStatement):
                statements += preparing.statements(ahead.statement) if ahead.preparable else [ahead.statement]
                if ahead.commits:
                    # Django still sees the atomic() block; its commit at the end finds the
                    # transaction over and sends nothing (psycopg asks the connection first).
                    statements.append(("COMMIT", []))
            elif ahead is not None:
                statements.append(ahead.statement)
        results = execute_together(statements, begin=fresh)
        preparing.succeeded()
        mark_saved(event)
        if ahead is None:
            return name, None
        reports = results[-2] if isinstance(ahead, InOneStatement) and ahead.commits else results[-1]
        return name, functools.partial(ahead.finish, reports)

    def _same_callback(self, event: CallbackEvent) -> CallbackEvent | None:
        return (
            CallbackEvent.objects.select_related("bot")
            .filter(
                key_fingerprint=event.key_fingerprint, nonce_digest=event.nonce_digest, body_digest=event.body_digest
            )
            .first()
        )

    def _replayed(self, bot: Bot, earlier: CallbackEvent) -> HttpResponse:
        if earlier.bot_id != bot.pk:
            return self._refuse_replay(bot, earlier)
        if earlier.processing_state in (ProcessingState.FAILED, ProcessingState.PENDING):
            # Sinch's retry of a callback we failed to process: try again (idempotent).
            try:
                process_callback_event(earlier)
            except ReportsOfAnotherBot:
                raise
            except Exception:
                return _answer(500, "Stored; processing failed and will be retried.")
            return _answer(200, self._stored_detail(earlier))
        return _answer(200, "Already received.")

    def _refuse_replay(self, bot: Bot, earlier: CallbackEvent) -> HttpResponse:
        reason = "Replay of a callback received for another bot with the same signing key; not stored."
        logger.warning("Callback for bot %s refused: %s (first received for bot %s)", bot.pk, reason, earlier.bot_id)
        record_refusal(bot, reason, None)
        return _answer(403, reason)

    @staticmethod
    def _stored_detail(event: CallbackEvent) -> str:
        if event.processing_state == ProcessingState.UNINTERPRETED:
            return "Stored; not understood."
        detail = "Stored."
        if event.nonce_reused:
            detail = f"Stored; {NONCE_REUSED}."
        if event.processing_error:
            detail += f" {event.processing_error}."
        return detail


def _ip_or_none(value: str | None) -> str | None:
    import ipaddress

    try:
        return str(ipaddress.ip_address(value or ""))
    except ValueError:
        return None


#: How much of a callback's work travels with its INSERT (see ``CallbackView._store_and_apply``).
_IN_PYTHON, _STATEMENT, _WITH_COMMIT = 0, 1, 2


def _raised_by_insert_of(event: CallbackEvent, err: DatabaseError) -> bool:
    """Whether PostgreSQL names the callbacks' table as where ``err`` happened (a replay's unique constraint)."""
    diag = getattr(err.__cause__, "diag", None)
    return getattr(diag, "table_name", None) == type(event)._meta.db_table
