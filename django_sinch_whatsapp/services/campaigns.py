"""Template campaigns from a CSV: validate every row, store it, then send, resumably and in flat memory.

Two phases, each resumable. **Import** reads the file a row at a time,
validates each row (the number through :func:`.recipients.normalize_numbers` in
the bot's region, the parameters through the template builder's limits), and
stores ``IMPORT_BATCH`` rows per transaction with ``bulk_create`` together with
the campaign's counters and resume point (``Campaign.lines_read``). **Sending**
reads stored rows ``SEND_CHUNK`` at a time in line order; rows with the same
parameters share one request (up to 20 recipients, whatsapp-message.md), rows
with their own parameters get a request each (a template's parameters are
part of the message, shared by every recipient of a request).

No row is sent twice across crashes: before its request, each group's rows get
an idempotency key in a committed UPDATE (state ``queued``); the send writes the
key with its message rows in one transaction (:func:`.sending.send_message`).
A re-run replays a queued group under the same key: if that send committed, it
is found and linked without a request; if not, nothing of it exists and it is
sent. Keys are kept ``IDEMPOTENCY_KEY_HOURS`` (48 by default): resume within it.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from ..client import messages as builders
from ..client.client import MAX_NUMBERS_PER_REQUEST
from ..exceptions import MessageValidationError
from ..models import Bot, Campaign, CampaignRow, CampaignRowState, IdempotencyKey, MessageState, OutboundMessage
from . import idempotency, tiers
from .campaign_csv import ColumnMap, CsvRow, read_rows
from .recipients import default_region_for, normalize_numbers
from .sending import send_message

#: Rows per import transaction (one ``bulk_create`` and one counter UPDATE each).
IMPORT_BATCH = 1_000
#: Stored rows read per sending step; identical parameters within it share requests.
SEND_CHUNK = 500
#: What a report keeps in memory, whatever the size of the file.
KEPT_REJECTIONS = 100

#: ``progress(phase, done, total)``: phase ``"import"`` (total None: the file is streamed) or ``"send"``.
Progress = Callable[[str, int, int | None], None]

SENT_STATES = frozenset(
    {
        MessageState.QUEUED,
        MessageState.DISPATCHED,
        MessageState.SENT,
        MessageState.DELIVERED,
        MessageState.READ,
        MessageState.DELETED,
    }
)
FAILED_STATES = frozenset({MessageState.FAILED, MessageState.NO_OPT_IN, MessageState.NO_CAPABILITY, MessageState.ERROR})


@dataclass
class Rejection:
    line: int
    raw_number: str
    reason: str


@dataclass
class CampaignSummary:
    """A campaign's counts, read from its rows and their messages (a constant number of queries)."""

    campaign_id: int
    lines_read: int
    accepted: int
    rejected: int
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    pending: int = 0
    rejected_reasons: list[tuple[str, int]] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.campaign_id,
            "lines_read": self.lines_read,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "sent": self.sent,
            "failed": self.failed,
            "unknown": self.unknown,
            "pending": self.pending,
            "rejected_reasons": [{"reason": reason, "count": count} for reason, count in self.rejected_reasons],
            "rejections": [vars(item) for item in self.rejections],
        }


def create_campaign(
    bot: Bot,
    *,
    template_name: str,
    language: str = "en",
    number_column: str = "number",
    param_columns: Iterable[str] = (),
    name: str = "",
) -> Campaign:
    """A new campaign, after checking the template's name and language with the builder's limits."""
    if not bot.is_active:
        raise MessageValidationError("bot", "is inactive; activate it to send")
    builders.template(template_name, language=language)  # name and language limits, before any row
    return Campaign.objects.create(
        bot=bot,
        name=name,
        template_name=template_name,
        language=language,
        number_column=number_column,
        param_columns=list(param_columns),
    )


def import_rows(campaign: Campaign, stream: TextIO, *, progress: Progress | None = None) -> Campaign:
    """Validate and store the rows of ``stream`` after ``campaign.lines_read``; safe to repeat on the same file."""
    columns = ColumnMap(number=campaign.number_column, params=tuple(campaign.param_columns))
    validator = _RowValidator(campaign)
    rows = read_rows(stream, columns, after_line=campaign.lines_read)
    done = 0
    for batch in _batches(rows, IMPORT_BATCH):
        _store(campaign, [validator.check(row) for row in batch])
        done += len(batch)
        if progress:
            progress("import", done, None)
    Campaign.objects.filter(pk=campaign.pk, imported_at__isnull=True).update(imported_at=timezone.now())
    campaign.refresh_from_db()
    return campaign


class _RowValidator:
    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.region = default_region_for(campaign.bot)

    def check(self, row: CsvRow) -> CampaignRow:
        stored = CampaignRow(campaign=self.campaign, line=row.line, raw_number=row.number[:64], params=row.params)
        reason = row.error
        empty = [
            name for name, value in zip(self.campaign.param_columns, row.params, strict=False) if not value.strip()
        ]
        if reason is None and empty:
            # Our rule, not Sinch's: a blank cell would send the template with a hole in it.
            reason = f"column {empty[0]!r} is empty (a body parameter)"
        if reason is None:
            recipients, rejected = normalize_numbers(
                row.number, field="number", allow_groups=False, default_region=self.region
            )
            if rejected:
                reason = f"number: {rejected[0].reason}"
            else:
                stored.number = recipients[0].wire
        if reason is None:
            try:
                builders.template(
                    self.campaign.template_name, language=self.campaign.language, body_params=row.params or None
                )
            except MessageValidationError as err:
                reason = f"template {err}"
        if reason is not None:
            stored.number = None
            stored.state = CampaignRowState.REJECTED
            stored.reason = reason
        return stored


def _store(campaign: Campaign, rows: list[CampaignRow]) -> None:
    """One batch: duplicates of earlier rows refused, the rows and the counters in one transaction."""
    numbers = [row.number for row in rows if row.number]
    earlier = dict(CampaignRow.objects.filter(campaign=campaign, number__in=numbers).values_list("number", "line"))
    for row in rows:
        if not row.number:
            continue
        if row.number in earlier:
            row.reason = f"number: the same number as line {earlier[row.number]}"
            row.state = CampaignRowState.REJECTED
            row.number = None
        else:
            earlier[row.number] = row.line
    accepted = sum(1 for row in rows if row.state == CampaignRowState.ACCEPTED)
    with transaction.atomic():
        CampaignRow.objects.bulk_create(rows)
        Campaign.objects.filter(pk=campaign.pk).update(
            lines_read=max(row.line for row in rows),
            accepted=F("accepted") + accepted,
            rejected=F("rejected") + len(rows) - accepted,
            updated_at=timezone.now(),
        )


def send_campaign(
    campaign: Campaign, *, progress: Progress | None = None, over_tier: str = "refuse"
) -> CampaignSummary:
    """Send every stored row not yet sent (a re-run replays queued ones under their key, sending none twice).

    The messaging tier is checked up front, for every number still to send:
    with ``over_tier="refuse"`` a campaign that does not fit raises
    :class:`~django_sinch_whatsapp.exceptions.MessagingTierExceeded` before
    anything is sent (resume it when the rolling 24 hours allow); with
    ``"defer"`` what does not fit is recorded with its time to go (``not_before``).
    """
    bot = campaign.bot
    pending = CampaignRow.objects.filter(
        campaign=campaign, state__in=[CampaignRowState.ACCEPTED, CampaignRowState.QUEUED]
    )
    # Groups an earlier run already sent (their key exists) replay without sending: they are in the tier's count.
    sent_keys = IdempotencyKey.objects.filter(
        scope=idempotency.scope_for(bot), key__startswith=f"campaign:{campaign.pk}:"
    ).values("key")
    unsent = pending.exclude(state=CampaignRowState.QUEUED, send_key__in=sent_keys).count()
    tiers.budget_for(bot, unsent, over_tier)  # raises when refusing and it does not fit
    total = campaign.accepted
    done = CampaignRow.objects.filter(campaign=campaign, state=CampaignRowState.SENT).count()
    after = 0
    while chunk := list(pending.filter(line__gt=after).order_by("line")[:SEND_CHUNK]):
        after = chunk[-1].line
        for group, resumed in _queue(campaign, chunk):
            _send_group(bot, campaign, group, resumed, over_tier)
            done += len(group)
            if progress:
                progress("send", done, total)
    if not pending.exists():
        Campaign.objects.filter(pk=campaign.pk, finished_at__isnull=True).update(finished_at=timezone.now())
    return summarize(campaign)


def _queue(campaign: Campaign, chunk: list[CampaignRow]) -> list[tuple[list[CampaignRow], bool]]:
    """Groups of one request each, in line order, each with whether an earlier run queued it.

    Queued rows keep their key's group; new rows are grouped by parameters (at
    most 20 a group) and their keys committed before any of them is sent.
    """
    groups: dict[str, list[CampaignRow]] = {}
    fresh: dict[str, list[CampaignRow]] = {}
    for row in chunk:
        if row.state == CampaignRowState.QUEUED:
            groups.setdefault(row.send_key, []).append(row)
        else:
            fresh.setdefault(json.dumps(row.params), []).append(row)
    resumed = set(groups)
    new_groups: list[list[CampaignRow]] = []
    for same in fresh.values():
        for start in range(0, len(same), MAX_NUMBERS_PER_REQUEST):
            group = same[start : start + MAX_NUMBERS_PER_REQUEST]
            key = f"campaign:{campaign.pk}:{group[0].line}"
            for row in group:
                row.send_key = key
                row.state = CampaignRowState.QUEUED
            groups[key] = group
            new_groups.append(group)
    # One UPDATE per group in one commit (bulk_update's CASE per row costs more than the requests).
    with transaction.atomic():
        for group in new_groups:
            CampaignRow.objects.filter(pk__in=[row.pk for row in group]).update(
                send_key=group[0].send_key, state=CampaignRowState.QUEUED
            )
    return sorted(((group, key in resumed) for key, group in groups.items()), key=lambda item: item[0][0].line)


def _send_group(bot: Bot, campaign: Campaign, group: list[CampaignRow], resumed: bool, over_tier: str) -> None:
    key = group[0].send_key
    send_id = None
    if resumed:
        # The whole group, as first queued: this chunk may start in the middle of it.
        group = list(
            CampaignRow.objects.filter(campaign=campaign, send_key=key, state=CampaignRowState.QUEUED).order_by("line")
        )
        # Queued by a run that stopped: its key exists exactly when its message rows do (one transaction).
        # Unfinished (killed mid-request) it is not waited for: its rows are what was sent, or unknown.
        send_id = (
            IdempotencyKey.objects.filter(scope=idempotency.scope_for(bot), key=key)
            .values_list("send_id", flat=True)
            .first()
        )
    if send_id is None:
        message = builders.template(
            campaign.template_name, language=campaign.language, body_params=group[0].params or None
        )
        numbers = [row.number or "" for row in group]
        send_id = send_message(bot, numbers, message, idempotency_key=key, over_tier=over_tier).send_id
    CampaignRow.objects.filter(pk__in=[row.pk for row in group]).update(state=CampaignRowState.SENT, send_id=send_id)


def summarize(campaign: Campaign, *, kept_rejections: int = 20) -> CampaignSummary:
    """Counts from the campaign, its rows and their messages' states; the first rejections by line."""
    campaign.refresh_from_db()
    summary = CampaignSummary(
        campaign_id=campaign.pk, lines_read=campaign.lines_read, accepted=campaign.accepted, rejected=campaign.rejected
    )
    rows = CampaignRow.objects.filter(campaign=campaign)
    sends = rows.filter(state=CampaignRowState.SENT).values("send_id")
    states: Counter[str] = Counter(
        dict(
            OutboundMessage.objects.filter(bot_id=campaign.bot_id, send_id__in=sends)
            .values_list("state")
            .annotate(count=Count("pk"))
            .values_list("state", "count")
        )
    )
    summary.sent = sum(count for state, count in states.items() if state in SENT_STATES)
    summary.failed = sum(count for state, count in states.items() if state in FAILED_STATES)
    summary.unknown = states.get(MessageState.UNKNOWN, 0)
    summary.pending = campaign.accepted - summary.sent - summary.failed - summary.unknown
    rejected = rows.filter(state=CampaignRowState.REJECTED)
    summary.rejected_reasons = list(
        rejected.values_list("reason")
        .annotate(count=Count("pk"))
        .order_by("-count", "reason")
        .values_list("reason", "count")[:10]
    )
    summary.rejections = [
        Rejection(line=line, raw_number=raw, reason=reason)
        for line, raw, reason in rejected.order_by("line").values_list("line", "raw_number", "reason")[
            : min(kept_rejections, KEPT_REJECTIONS)
        ]
    ]
    return summary


def run_campaign(
    campaign: Campaign,
    stream: TextIO,
    *,
    send: bool = True,
    progress: Progress | None = None,
    over_tier: str = "refuse",
) -> CampaignSummary:
    """Import what is not yet stored, then send what is not yet sent: the one entry point for a (re-)run."""
    import_rows(campaign, stream, progress=progress)
    if send:
        return send_campaign(campaign, progress=progress, over_tier=over_tier)
    return summarize(campaign)


def _batches(rows: Iterator[CsvRow], size: int) -> Iterator[list[CsvRow]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch
