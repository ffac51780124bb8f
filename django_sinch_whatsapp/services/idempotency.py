"""Idempotency keys for sends: the unique constraint decides, repeats get the first answer.

The key row is INSERTed in the transaction that records the send's first rows,
so "the key exists" and "the rows exist" are one fact. A concurrent repeat
blocks on that INSERT (PostgreSQL) or on the write lock (SQLite) until the
first request commits, then fails the constraint and becomes a replay: it
waits (``IDEMPOTENCY_WAIT_SECONDS``) until the first request finished
dispatching and returns its outcome, or raises ``IdempotencyKeyInProgress``.
Nothing is sent twice either way.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.utils import timezone

from ..conf import app_settings
from ..exceptions import IdempotencyKeyInProgress, IdempotencyKeyReused
from ..models import Bot, IdempotencyKey

#: Keys are kept at least this long whatever the setting says (retries come within a day).
MINIMUM_HOURS = 24
#: A first request that neither finished nor answered in this time died: its rows are replayed as they are.
ABANDONED_AFTER = timedelta(minutes=15)
MAX_KEY_LENGTH = 255


def scope_for(bot: Bot) -> str:
    """Keys are per tenant: two tenants may use the same key independently."""
    return f"tenant:{bot.tenant_id}"


def validate_key(key: str) -> str:
    """A key of 1 to 255 printable ASCII characters, or ValueError naming the limit."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValueError(f"must be 1 to {MAX_KEY_LENGTH} characters (got {len(key)})")
    if not all(" " <= ch <= "~" for ch in key):
        raise ValueError("must be printable ASCII characters")
    return key


def request_digest(
    bot: Bot, to: Iterable[str] | str, message: dict[str, Any], *, callback_url: str | None, allow_outside_window: bool
) -> str:
    """SHA-256 of the request in canonical JSON: the same request gives the same digest however it is spelt.

    Recipients count when they are a string or a sequence; a one-shot iterator
    (a streamed bulk send) is not read twice, so there the key covers the bot,
    the message and the options only.
    """
    recipients: list[str] | None = None
    if isinstance(to, str):
        recipients = [to]
    elif isinstance(to, Sequence):
        recipients = [str(item) for item in to]
    canonical = {
        "bot": bot.pk,
        "to": recipients,
        "message": dict(message),
        "callback_url": callback_url,
        "allow_outside_window": allow_outside_window,
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def new_record(bot: Bot, key: str, digest: str, send_id: uuid.UUID) -> IdempotencyKey:
    return IdempotencyKey(scope=scope_for(bot), key=key, request_digest=digest, send_id=send_id, bot_id=bot.pk)


def first_request(bot: Bot, key: str, digest: str) -> IdempotencyKey | None:
    """The first request's record once it has finished; None when there is none (it rolled back).

    Raises ``IdempotencyKeyReused`` when the key was used for another request,
    ``IdempotencyKeyInProgress`` when the first one is still running after the wait.
    """
    deadline = time.monotonic() + float(app_settings.IDEMPOTENCY_WAIT_SECONDS)
    while True:
        record = IdempotencyKey.objects.filter(scope=scope_for(bot), key=key).first()
        if record is None:
            return None
        if record.request_digest != digest:
            raise IdempotencyKeyReused(
                f"Idempotency-Key {key!r} was already used for a different request; use a new key for a new request."
            )
        if record.completed_at is not None or record.created_at < timezone.now() - ABANDONED_AFTER:
            return record
        if time.monotonic() >= deadline:
            raise IdempotencyKeyInProgress(
                f"The first request with Idempotency-Key {key!r} is still being sent; retry in a moment."
            )
        time.sleep(0.05)


def mark_completed(record: IdempotencyKey) -> None:
    now = timezone.now()
    IdempotencyKey.objects.filter(pk=record.pk).update(completed_at=now)
    record.completed_at = now


def store_response(record: IdempotencyKey, status: int, body: Any) -> bool:
    """Keep the API's first answer (once: a concurrent repeat's answer never replaces it)."""
    stored = IdempotencyKey.objects.filter(pk=record.pk, response_status__isnull=True).update(
        response_status=status, response_body=body, completed_at=record.completed_at or timezone.now()
    )
    if stored:
        record.response_status, record.response_body = status, body
    return bool(stored)


def stored_response(record: IdempotencyKey, *, wait: float = 2.0) -> tuple[int, Any] | None:
    """The first answer, waiting briefly when the first request finished sending but is still answering."""
    deadline = time.monotonic() + wait
    while True:
        if record.response_status is not None:
            return record.response_status, record.response_body
        finished = record.completed_at or record.created_at
        if time.monotonic() >= deadline or finished < timezone.now() - timedelta(seconds=wait):
            return None  # the first request died before answering: the caller answers from the rows
        time.sleep(0.05)
        record.refresh_from_db(fields=["response_status", "response_body", "completed_at"])


def prune(*, hours: float | None = None) -> int:
    """Delete keys older than ``hours`` (default ``IDEMPOTENCY_KEY_HOURS``, never under 24). Returns the count."""
    hours = float(app_settings.IDEMPOTENCY_KEY_HOURS if hours is None else hours)
    if hours < MINIMUM_HOURS:
        raise ValueError(f"idempotency keys are kept at least {MINIMUM_HOURS} hours (got {hours:g})")
    cutoff = timezone.now() - timedelta(hours=hours)
    return IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()[0]
