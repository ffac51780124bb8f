"""Sending: validate, record, then dispatch, chunk by chunk.

Every message accepted here is validated against the documented limits, then
recorded (state ``accepted``) before any remote call, and sent after the
transaction that recorded it commits; Sinch's answer goes on the same rows.

Recipients are streamed: they are read ``CHUNK`` at a time from any iterable,
and each chunk is normalized, recorded in its own transaction and dispatched
before the next one is read, so memory does not grow with the number of
recipients. The outcome keeps counts, the first rejections and the first rows;
``outcome.queryset`` has every row.

Inline dispatch (the default), one text to a known contact, is two write
transactions: (1) the INSERT of the row, already claimed for this process
(``dispatched_at`` set: it is sent right after the commit, so nobody else may
send it), after a SELECT of the contact; the POST to Sinch; (2) Sinch's answer
(``dispatch`` -> ``answers``: on PostgreSQL one statement, elsewhere an UPDATE
and an INSERT in one transaction); then one read for delivery reports that came
before the id was stored. With an idempotency key the key and the rows are
written in one transaction. With Celery, or when called inside the caller's
transaction, rows are recorded unclaimed and dispatched by id after commit (the
outbox path, see :mod:`..dispatch`).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from .. import dispatch
from ..callbacks.bulk import insert_message_for_contact, insert_row
from ..client import messages as builders
from ..client.client import MAX_NUMBERS_PER_REQUEST
from ..clients import verifier_for_bot
from ..conf import app_settings
from ..exceptions import IdempotencyKeyInProgress, MessageValidationError, OutsideCustomerCareWindow, SinchAPIError
from ..models import Bot, IdempotencyKey, MessageType, OutboundMessage
from ..models.contacts import CUSTOMER_CARE_WINDOW
from ..phone import GROUP_PREFIX, Recipient
from ..transports.base import Feature
from . import idempotency, tiers
from .recipients import RejectedRecipient, contacts_by_number, default_region_for, normalize_numbers

logger = logging.getLogger("django_sinch_whatsapp.sending")

TIER_REASON = "over the bot's messaging tier (unique users per 24 hours)"
WINDOW_CLOSED_REASON = "the 24-hour customer care window is closed (no message from this contact in 24 hours)"
#: Recipients per transaction when each batch is sent right after its commit (one request each).
CHUNK = MAX_NUMBERS_PER_REQUEST
#: Recipients per transaction when dispatch is deferred (Celery, or inside the caller's transaction).
DEFERRED_CHUNK = 25 * MAX_NUMBERS_PER_REQUEST
#: A well-formed number, to ask the transport whether it can carry a message at all.
PROBE_RECIPIENT = "46732001122"
#: What an outcome keeps in memory, whatever the number of recipients.
KEPT_ROWS = 1_000
KEPT_REJECTIONS = 100
KEPT_ERRORS = 20


@dataclass
class SendOutcome:
    """What a send did, in bounded memory: counts, the first rejections and errors, the rows as a queryset.

    ``messages`` is the rows in recipient order: the objects this send updated
    when there were at most ``KEPT_ROWS`` of them, else read from the database
    when asked for (``queryset`` streams them with ``.iterator()``).
    ``rejected`` lists the first ``KEPT_REJECTIONS`` refusals; ``rejected_count``
    counts all. ``pending_batches`` counts batches whose dispatch did not start
    or finish here (broker unreachable, database lost after the request): their
    rows are committed and the outbox settles them (reconciliation).
    ``replayed`` is true when an idempotency key matched an earlier send: nothing
    was sent and ``idempotency`` is that send's record.
    """

    send_id: uuid.UUID = field(default_factory=uuid.uuid4)
    accepted: int = 0
    sent: int = 0
    rejected: list[RejectedRecipient] = field(default_factory=list)
    rejected_count: int = 0
    window_closed: int = 0
    deferred: int = 0
    errors: list[SinchAPIError] = field(default_factory=list)
    failed_batches: int = 0
    pending_batches: int = 0
    dispatch_errors: list[str] = field(default_factory=list)
    replayed: bool = False
    idempotency: IdempotencyKey | None = None
    _rows: list[OutboundMessage] | None = field(default_factory=list, repr=False)

    @property
    def queryset(self) -> QuerySet[OutboundMessage]:
        """Every row of this send (or of the send an idempotency key replayed)."""
        return OutboundMessage.objects.filter(send_id=self.send_id)

    @property
    def messages(self) -> list[OutboundMessage]:
        if self._rows is not None:
            return self._rows
        return list(self.queryset.order_by("created_at", "recipient"))

    @property
    def kept_rows(self) -> list[OutboundMessage] | None:
        """The row objects held in memory (None once the send outgrew ``KEPT_ROWS``)."""
        return self._rows

    def refresh(self) -> SendOutcome:
        """Reload the kept rows (after a deferred dispatch wrote Sinch's answer)."""
        if self._rows:
            by_pk = OutboundMessage.objects.in_bulk([m.pk for m in self._rows])
            self._rows = [by_pk.get(m.pk, m) for m in self._rows]
        return self

    def add_rejected(self, rejected: Iterable[RejectedRecipient]) -> None:
        for item in rejected:
            self.rejected_count += 1
            if len(self.rejected) < KEPT_REJECTIONS:
                self.rejected.append(item)

    def add_rows(self, rows: list[OutboundMessage]) -> None:
        self.accepted += len(rows)
        if self._rows is not None:
            self._rows.extend(rows)
            if len(self._rows) > KEPT_ROWS:
                self._rows = None  # from here on the queryset is the list

    def add_batch(self, result: dispatch.BatchResult) -> None:
        self.sent += result.sent
        if result.error is not None:
            self.failed_batches += 1
            if len(self.errors) < KEPT_ERRORS:
                self.errors.append(result.error)
        if result.dispatch_error:
            self.pending_batches += 1
            if len(self.dispatch_errors) < KEPT_ERRORS:
                self.dispatch_errors.append(result.dispatch_error)

    @classmethod
    def replay(cls, record: IdempotencyKey) -> SendOutcome:
        outcome = cls(send_id=record.send_id, replayed=True, idempotency=record, _rows=None)
        outcome.accepted = outcome.queryset.count()
        return outcome


class _KeyTaken(Exception):
    """The idempotency key's INSERT lost: an earlier request holds it."""


def _refuse_groups(transport: Any, values: Iterable[Any]) -> None:
    """A ``group:`` id for a transport without groups (Conversation) is the caller's error, named, not a reject."""
    if any(str(value).strip().lower().startswith(GROUP_PREFIX) for value in values):
        transport.require(Feature.GROUPS)


def send_message(
    bot: Bot,
    to: Iterable[str] | str,
    message: dict[str, Any],
    *,
    callback_url: str | None = None,
    allow_outside_window: bool = False,
    header_text_length: int = 0,
    body_text_length: int = 0,
    idempotency_key: str | None = None,
    over_tier: str = "refuse",
) -> SendOutcome:
    """Validate, record and dispatch one message object to any number of recipients.

    ``to`` is a number or any iterable of numbers (a generator is read once,
    in chunks). Recipients are normalized (``+46 73-200 11 22`` ->
    ``46732001122``; ``group:`` ids pass through) and each is sent once;
    invalid ones are counted in ``outcome.rejected_count`` (the first listed in
    ``outcome.rejected``) while the valid ones are still sent, in
    ``ceil(N / 20)`` requests (whatsapp-message.md: 1 to 20 per request).
    A non-template message to a contact whose 24-hour window is closed is
    refused for that contact (``OutsideCustomerCareWindow`` when it leaves
    nobody), unless ``allow_outside_window``.

    ``idempotency_key``: a repeat with the same key (per tenant, kept
    ``IDEMPOTENCY_KEY_HOURS``) and the same request sends nothing and returns
    an outcome with ``replayed`` set; another request under the same key raises
    ``IdempotencyKeyReused``; a repeat while the first is still sending waits
    up to ``IDEMPOTENCY_WAIT_SECONDS``, then raises ``IdempotencyKeyInProgress``.

    Templates count toward the bot's messaging tier (:mod:`.tiers`). A send of
    known size (a list, tuple or set) that exceeds what is left raises
    ``MessagingTierExceeded`` before anything is written, unless
    ``over_tier="defer"``: then the recipients beyond the tier are recorded
    ``accepted`` with ``not_before`` 24 hours on (``outcome.deferred``), and
    reconciliation dispatches them then. A stream that outgrows the tier has
    its excess rejected (or deferred).
    """
    if not bot.is_active:
        raise MessageValidationError("bot", "is inactive; activate it to send")
    if not isinstance(message, builders.ValidatedMessage):
        # A template's own header/body text counts toward the 60/1024 totals; callers who know it pass it.
        message = builders.validate_message(
            message, header_text_length=header_text_length, body_text_length=body_text_length
        )
    # The bot's transport must be able to carry it (no stickers on Conversation, say): refused before any row.
    transport = verifier_for_bot(bot)
    transport.build_requests(message, [PROBE_RECIPIENT])
    if not transport.supports(Feature.GROUPS) and isinstance(to, (str, list, tuple)):
        _refuse_groups(transport, [to] if isinstance(to, str) else to)  # a list: before any row
    # whatsapp-message.md: callback is a URL Sinch posts to; refused here, before any row or request.
    field = "callback" if callback_url is not None else "callback (the bot's, from SINCH_WHATSAPP['PUBLIC_BASE_URL'])"
    callback = builders.validate_callback_url(callback_url if callback_url is not None else bot.callback_url, field)
    budget = None
    if message["type"] == MessageType.TEMPLATE:
        sized = isinstance(to, (list, tuple, set, frozenset))
        budget = tiers.budget_for(bot, 1 if isinstance(to, str) else (len(set(to)) if sized else None), over_tier)
    outcome = SendOutcome()
    record = None
    if idempotency_key is not None:
        digest = idempotency.request_digest(
            bot, to, message, callback_url=callback_url, allow_outside_window=allow_outside_window
        )
        record = idempotency.new_record(bot, idempotency.validate_key(idempotency_key), digest, outcome.send_id)
    sender = _Sender(bot, message, callback or "", allow_outside_window, outcome, record)
    sender.tier_budget = budget
    try:
        sender.run([to] if isinstance(to, str) else to)
    except _KeyTaken:
        assert record is not None
        first = idempotency.first_request(bot, record.key, record.request_digest)
        if first is None:  # the first request rolled back after we lost to it: nothing of it exists
            raise IdempotencyKeyInProgress(
                f"The first request with Idempotency-Key {record.key!r} did not complete; retry it."
            ) from None
        return SendOutcome.replay(first)
    if record is not None and record.pk is not None:
        try:
            idempotency.mark_completed(record)
        except Exception:  # the rows are committed: never fail the send for its bookkeeping
            logger.exception("Could not mark idempotency key %s completed", record.pk)
        outcome.idempotency = record
    return outcome


class _Sender:
    """One send's chunk loop: normalize, record, dispatch, summarise."""

    def __init__(
        self,
        bot: Bot,
        message: dict[str, Any],
        callback: str,
        allow_outside_window: bool,
        outcome: SendOutcome,
        record: IdempotencyKey | None,
    ) -> None:
        self.bot = bot
        self.message = message
        self.message_type = message["type"]
        self.callback = callback
        self.check_window = not allow_outside_window and self.message_type != MessageType.TEMPLATE
        self.outcome = outcome
        self.record = record
        # Sent right after each commit from the objects in hand, or by id from the outbox.
        self.inline = app_settings.DISPATCH_BACKEND != "celery" and not transaction.get_connection().in_atomic_block
        self.default_region = default_region_for(bot)
        self.seen: set[str] = set()  # wire numbers already taken: the same number twice is sent once
        self.closed_examples: list[str] = []
        self.tier_budget: tiers.TierBudget | None = None
        self.groups = verifier_for_bot(bot).supports(Feature.GROUPS)

    def run(self, values: Iterable[str]) -> None:
        given = 0
        size = CHUNK if self.inline else DEFERRED_CHUNK
        pending: list[Recipient] = []  # full chunks go out as they fill, so batches stay 20 (ceil(N / 20) requests)
        for chunk in _chunks(iter(values), size):
            given += len(chunk)
            if not self.groups:
                _refuse_groups(verifier_for_bot(self.bot), chunk)  # a generator: before this chunk's rows
            recipients, rejected = normalize_numbers(
                chunk, field="to", allow_groups=True, default_region=self.default_region
            )
            self.outcome.add_rejected(rejected)
            fresh = [r for r in recipients if r.wire not in self.seen]
            self.seen.update(r.wire for r in fresh)
            pending.extend(fresh)
            while len(pending) >= size:
                self._record_and_dispatch(pending[:size])
                del pending[:size]
        if pending:
            self._record_and_dispatch(pending)
        if not given:
            raise MessageValidationError("to", "needs at least one number", limit=1, actual=0)
        if not self.outcome.accepted and self.outcome.window_closed:
            more = self.outcome.window_closed - len(self.closed_examples)
            numbers = ", ".join(self.closed_examples) + (f" and {more} more" if more > 0 else "")
            raise OutsideCustomerCareWindow(
                f"{numbers}: {WINDOW_CLOSED_REASON}. Send a template, or pass allow_outside_window=True to override.",
                numbers=self.closed_examples,
                count=self.outcome.window_closed,
            )

    def _record_and_dispatch(self, recipients: list[Recipient]) -> None:
        if self.tier_budget is not None:
            now = self.tier_budget.take(len(recipients))
            recipients, later = recipients[:now], recipients[now:]
            if later and self.tier_budget.defer:
                self._record_deferred(later, self.tier_budget.not_before)
            elif later:
                self.outcome.add_rejected([RejectedRecipient(raw=r.raw, reason=TIER_REASON) for r in later])
            if not recipients:
                return
        claim_key = self.record is not None and self.record.pk is None
        # Without a key to write with the rows, the chunk's one INSERT needs no transaction of its own.
        atomic = transaction.atomic() if claim_key or not self.inline else contextlib.nullcontext()
        try:
            with atomic:
                rows = self._record(recipients, claim_key)
        except IntegrityError:
            if claim_key and self.record is not None and self._key_exists():
                raise _KeyTaken from None
            raise
        if not rows:
            return
        self.outcome.add_rows(rows)
        if not self.inline:
            return  # scheduled in _record, after the commit
        for start in range(0, len(rows), MAX_NUMBERS_PER_REQUEST):
            batch = rows[start : start + MAX_NUMBERS_PER_REQUEST]
            try:
                self.outcome.add_batch(dispatch.deliver_claimed(batch))
            except Exception as err:
                # The rows are committed and claimed: reconciliation settles them; the send does not fail.
                logger.exception("Dispatch of batch %s did not finish", batch[0].batch_id)
                self.outcome.add_batch(
                    dispatch.BatchResult(
                        batch_id=batch[0].batch_id, size=len(batch), dispatch_error=f"{type(err).__name__}: {err}"
                    )
                )

    def _record_deferred(self, recipients: list[Recipient], not_before: Any) -> None:
        """Rows beyond the tier: recorded, not dispatched before ``not_before`` (reconciliation sends them)."""
        contacts = contacts_by_number(self.bot, [r.e164 for r in recipients if not r.is_group])
        rows, _batch_ids = self._rows(recipients, contacts, not_before=not_before)
        with transaction.atomic():
            if self.record is not None and self.record.pk is None:
                self.record.save(force_insert=True)
            OutboundMessage.objects.bulk_create(rows)
        self.outcome.add_rows(rows)
        self.outcome.deferred += len(rows)

    def _rows(
        self, recipients: list[Recipient], contacts: dict[str, Any], **extra: Any
    ) -> tuple[list[OutboundMessage], list[uuid.UUID]]:
        """One row per recipient, a batch id per 20 (whatsapp-message.md: 1 to 20 per request)."""
        rows: list[OutboundMessage] = []
        batch_ids: list[uuid.UUID] = []
        for start in range(0, len(recipients), MAX_NUMBERS_PER_REQUEST):
            batch_id = uuid.uuid4()
            batch_ids.append(batch_id)
            rows.extend(
                OutboundMessage(
                    bot=self.bot,
                    contact=contacts.get(item.e164),
                    recipient=item.wire,
                    message_type=self.message_type,
                    payload=self.message,
                    callback_url=self.callback,
                    batch_id=batch_id,
                    send_id=self.outcome.send_id,
                    **extra,
                )
                for item in recipients[start : start + MAX_NUMBERS_PER_REQUEST]
            )
        return rows, batch_ids

    def _key_exists(self) -> bool:
        assert self.record is not None
        return IdempotencyKey.objects.filter(scope=self.record.scope, key=self.record.key).exists()

    def _record(self, recipients: list[Recipient], claim_key: bool) -> list[OutboundMessage]:
        """One chunk's rows (and the idempotency key with the first rows), in the caller's transaction."""
        if len(recipients) == 1 and not claim_key and not recipients[0].is_group:
            row = self._record_for_known_contact(recipients[0])
            if row is not None:
                return [row]
        contacts = contacts_by_number(self.bot, [r.e164 for r in recipients if not r.is_group])
        if self.check_window:
            # whatsapp-message.md, message flow: outside the 24-hour customer care
            # window only templates may be sent; refuse before any request.
            open_ = []
            for item in recipients:
                if item.is_group or contacts[item.e164].window_open:
                    open_.append(item)
                    continue
                self.outcome.window_closed += 1
                if len(self.closed_examples) < 10:
                    self.closed_examples.append(item.e164)
                self.outcome.add_rejected([RejectedRecipient(raw=item.raw, reason=WINDOW_CLOSED_REASON)])
            recipients = open_
        if not recipients:
            return []
        if claim_key and self.record is not None:
            self.record.save(force_insert=True)  # the unique constraint decides between repeats
        rows, batch_ids = self._rows(recipients, contacts, dispatched_at=timezone.now() if self.inline else None)
        if len(rows) == 1:
            insert_row(rows[0])  # one INSERT; bulk_create would wrap even one row in BEGIN/COMMIT
        else:
            OutboundMessage.objects.bulk_create(rows)
        if not self.inline:
            dispatch.schedule(batch_ids, on_result=self.outcome.add_batch)
        return rows

    def _record_for_known_contact(self, item: Recipient) -> OutboundMessage | None:
        """A single recipient who is a known contact (with the window open, where it must be): the row
        in one statement, its contact looked up by it. ``None``: nothing written, the general path decides."""
        [row], batch_ids = self._rows([item], {}, dispatched_at=timezone.now() if self.inline else None)
        inbound_after = timezone.now() - CUSTOMER_CARE_WINDOW if self.check_window else None
        contact_id = insert_message_for_contact(row, number=item.e164, inbound_after=inbound_after)
        if contact_id is None:
            return None
        row.contact_id = contact_id
        if not self.inline:
            dispatch.schedule(batch_ids, on_result=self.outcome.add_batch)
        return row


def _chunks(values: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(itertools.islice(values, size)):
        yield [str(value) for value in chunk]


def send_text(bot: Bot, to: Iterable[str] | str, text: str, *, preview_url: bool = False, **kwargs: Any) -> SendOutcome:
    return send_message(bot, to, builders.text(text, preview_url=preview_url), **kwargs)
