"""Whether Sinch took a send whose answer was lost, so that its ``unknown`` row can be retried safely.

A row is ``unknown`` without a Sinch id when its request may have reached Sinch but no answer came
back (a read timeout, a dropped connection, a worker killed mid-call). Retrying it blindly could
deliver twice. Reconciliation (:func:`confirm_lost_sends`, run by ``sinch_whatsapp_reconcile``) asks
what the bot's transport can tell:

* a transport that finds a message by our correlation id (``Feature.CORRELATION_LOOKUP``) is asked:
  what it finds is applied as delivery reports (the row settles), nothing found confirms absence;
* a transport whose Sinch reports every message it takes, retrying each report for a bounded time
  (``Transport.reports_arrive_within``: the standalone API, whatsapp-callback.md), confirms absence
  from the callbacks this app stored, when all of these hold (see :func:`silence_problem`):

  - that time has passed since the row's dispatch;
  - the row's reports would come to this bot's webhook (no per-message callback URL elsewhere);
  - since the dispatch the webhook stored and applied callbacks of this bot (it works), none waits
    unapplied or unread, and none was refused (Sinch drops a report we refused);
  - no delivery report for the row's recipient since the dispatch is unexplained: none names an id no
    row holds (an orphan), none went to an older ``unknown`` row that adopted it (it may have been
    this row's; ``callbacks.statuses`` gives a report to the oldest such row);
* the Conversation API can do neither (see ``ConversationTransport``): its rows are never confirmed.

Sinch's standalone callback store cannot be asked instead: it answers by Sinch's message id only
(whatsapp-callback-store.md), which is what the lost answer held.

A confirmed row gets ``absent_confirmed_at``; from then on ``services.retry`` sends it again, once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from ..callbacks.processing import apply_status
from ..clients import transport_for_bot
from ..exceptions import SecretDecryptionError, SinchAPIError
from ..models import Bot, CallbackEvent, CallbackRefusalStats, MessageState, OutboundMessage, StatusEvent
from ..models.callbacks import ProcessingState
from ..phone import best_effort_e164
from ..transports import Feature, Transport, get_transport, transport_names
from ..transports.errors import FeatureNotSupported, UnknownTransport

logger = logging.getLogger("django_sinch_whatsapp.reconciliation")


@dataclass
class LostSendsReport:
    """One run over the ``unknown`` rows without a Sinch id."""

    checked: int = 0
    #: Rows now known never to have reached Sinch (``absent_confirmed_at`` set; a dry run only counts).
    confirmed_absent: int = 0
    #: Rows a transport's lookup found at Sinch (settled by what it said).
    found: int = 0
    errors: list[str] = field(default_factory=list)


def transport_class(bot: Bot) -> type[Transport] | None:
    return _loadable(bot.transport)


def can_confirm_absence(cls: type[Transport] | None) -> bool:
    return cls is not None and (Feature.CORRELATION_LOOKUP in cls.features or cls.reports_arrive_within is not None)


def unconfirmable_reason(bot: Bot) -> str:
    """Why no reconciliation can ever confirm that Sinch lacks one of this bot's lost sends; '' if one can."""
    cls = transport_class(bot)
    if can_confirm_absence(cls):
        return ""
    name = cls.name if cls is not None else bot.transport
    return (
        f"the {name!r} transport can neither look a message up by our id nor promise a delivery report for "
        "every message, so nothing can confirm that Sinch does not have it"
    )


def outlook(message: OutboundMessage) -> str:
    """What reconciliation can tell about this unconfirmed ``unknown`` row, for people deciding whether to wait."""
    if message.sinch_message_id:
        return "It has a Sinch id: reconciliation asks Sinch about it, and its delivery reports settle it."
    cannot = unconfirmable_reason(message.bot)
    if cannot:
        return (
            f"For this bot it never can: {cannot}. Wait for a delivery report, or send a new message "
            "if a duplicate is acceptable."
        )
    cls = transport_class(message.bot)
    if cls is not None and Feature.CORRELATION_LOOKUP in cls.features:
        return "Reconciliation asks Sinch for it by our id."
    problem = silence_problem(message)
    if problem:
        return f"Not confirmed yet: {problem}."
    return "The callbacks stored so far show that Sinch never took it: the next reconciliation run confirms it."


def candidates(cutoff: datetime) -> QuerySet[OutboundMessage]:
    """``unknown`` rows without a Sinch id, not confirmed yet, recorded before ``cutoff``, of bots that can tell."""
    names = [name for name in transport_names() if can_confirm_absence(_loadable(name))]
    return (
        OutboundMessage.objects.filter(
            state=MessageState.UNKNOWN,
            sinch_message_id__isnull=True,
            absent_confirmed_at__isnull=True,
            created_at__lt=cutoff,
            bot__is_active=True,
            bot__transport__in=names,
        )
        .select_related("bot")
        .order_by("updated_at")  # least recently looked at first, so no row starves the others
    )


def _loadable(name: str) -> type[Transport] | None:
    try:
        return get_transport(name)
    except (ImportError, UnknownTransport):
        return None


def confirm_lost_sends(*, cutoff: datetime, limit: int = 500, dry_run: bool = False) -> LostSendsReport:
    """Decide, for up to ``limit`` lost sends, whether Sinch has them (see the module docstring).

    A dry run calls no one and writes nothing: it counts the rows silence already confirms.
    """
    report = LostSendsReport()
    now = timezone.now()
    undecided: list[OutboundMessage] = []
    for message in list(candidates(cutoff)[:limit]):
        report.checked += 1
        cls = transport_class(message.bot)
        if cls is not None and Feature.CORRELATION_LOOKUP in cls.features:
            if dry_run:
                continue
            verdict = _look_up(message, report)
        else:
            verdict = "" if silence_problem(message, now=now) == "" else None
        if verdict == "":
            report.confirmed_absent += 1
            if not dry_run:
                _mark_absent(message, now)
        elif verdict is None:
            undecided.append(message)
    if undecided and not dry_run:
        OutboundMessage.objects.filter(pk__in=[m.pk for m in undecided]).update(updated_at=now)
    return report


def _look_up(message: OutboundMessage, report: LostSendsReport) -> str | None:
    """'' when Sinch has no such message; 'found' when it has (applied); None when it could not be asked."""
    try:
        updates = transport_for_bot(message.bot).lookup_by_correlation_id(str(message.pk), message.recipient)
    except (SinchAPIError, SecretDecryptionError, FeatureNotSupported) as err:
        report.errors.append(f"{message.pk}: {err}")
        return None
    if not updates:
        return ""
    with transaction.atomic():
        for update in updates:
            apply_status(message.bot, update)  # a report carrying our correlation id names this row
    report.found += 1
    return "found"


def _mark_absent(message: OutboundMessage, now: datetime) -> None:
    # The WHERE clause: a report adopted meanwhile (a Sinch id) wins over the verdict.
    marked = OutboundMessage.objects.filter(
        pk=message.pk, state=MessageState.UNKNOWN, sinch_message_id__isnull=True, absent_confirmed_at__isnull=True
    ).update(absent_confirmed_at=now, updated_at=now)
    if marked:
        message.absent_confirmed_at = now
        logger.info("Message %s: Sinch never took it (confirmed by reconciliation); it may be retried", message.pk)


def silence_problem(message: OutboundMessage, *, now: datetime | None = None) -> str:
    """Why the callbacks stored so far do not prove that Sinch never took ``message``; '' when they do.

    For transports with ``reports_arrive_within`` (see the module docstring). Four queries.
    """
    cls = transport_class(message.bot)
    window = cls.reports_arrive_within if cls is not None else None
    if window is None:
        return unconfirmable_reason(message.bot)
    now = now or timezone.now()
    since = message.dispatched_at or message.created_at
    if now - since < window:
        return f"Sinch may still report it until {(since + window):%Y-%m-%d %H:%M:%S} UTC"
    bot = message.bot
    if message.callback_url and not message.callback_url.rstrip("/").endswith(bot.callback_path.rstrip("/")):
        return "its delivery reports go to another callback URL, which this app does not see"
    stored = CallbackEvent.objects.filter(bot=bot, received_at__gte=since).aggregate(
        applied=Count("pk", filter=Q(processing_state=ProcessingState.PROCESSED)),
        unread=Count("pk", filter=Q(processing_state=ProcessingState.UNINTERPRETED)),
        waiting=Count("pk", filter=Q(processing_state__in=[ProcessingState.PENDING, ProcessingState.FAILED])),
    )
    if stored["waiting"]:
        return "callbacks of this bot stored since its dispatch are not applied (reprocess them first)"
    if stored["unread"]:
        return "a callback of this bot stored since its dispatch could not be read: it may have been this message's"
    if not stored["applied"]:
        return "no callback of this bot arrived since its dispatch, so its webhook may not be receiving"
    if CallbackRefusalStats.objects.filter(bot=bot, last_at__gte=since).exists():
        return "a callback of this bot was refused since its dispatch (Sinch does not resend a refused report)"
    if _unexplained_reports(message, since):
        return "a delivery report for this recipient since its dispatch may have been this message's"
    return ""


def _unexplained_reports(message: OutboundMessage, since: datetime) -> bool:
    """Reports for the recipient since ``since``: orphans, or adopted by an older row after ``since``."""
    older_history = StatusEvent.objects.filter(message=OuterRef("message"), received_at__lt=since)
    reports = StatusEvent.objects.filter(bot=message.bot, received_at__gte=since).exclude(message=message)
    suspects = reports.filter(
        Q(message__isnull=True)
        | (
            (Q(message__dispatched_at__isnull=True) | Q(message__dispatched_at__lte=since))
            & ~Exists(older_history)  # its Sinch id came after ``since``: by adoption, not by its own answer
        )
    )
    wanted = _digits(message.recipient)
    return any(_digits(recipient) == wanted for recipient in suspects.values_list("recipient", flat=True))


def _digits(number: str) -> str:
    return best_effort_e164(number).lstrip("+")


__all__ = [
    "LostSendsReport",
    "can_confirm_absence",
    "confirm_lost_sends",
    "outlook",
    "silence_problem",
    "unconfirmable_reason",
]
