"""Messaging tiers: unique users a bot messages with templates per rolling 24 hours (Meta, 2025-10-07).

The count is one indexed query over :class:`OutboundMessage` (bot, message
type, dispatched_at): distinct recipients of templates dispatched in the last
24 hours, plus templates recorded and waiting (``accepted``, not dispatched,
e.g. deferred by the tier), which already hold their place. Templates Sinch
refused (state ``error``) do not count. A template to a contact whose window is
open counts too (the API cannot tell which Meta calls business-initiated): the
count errs on the safe side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from ..exceptions import MessagingTierExceeded
from ..models import Bot, MessageState, MessageType, OutboundMessage

WINDOW = timedelta(hours=24)
OVER_TIER_CHOICES = ("refuse", "defer")


def unique_recipients_24h(bot: Bot, now: datetime | None = None) -> int:
    """Unique recipients of this bot's templates in the rolling 24 hours (sent, or waiting to be)."""
    since = (now or timezone.now()) - WINDOW
    return (
        OutboundMessage.objects.filter(bot=bot, message_type=MessageType.TEMPLATE)
        .filter(Q(dispatched_at__gte=since) | Q(dispatched_at__isnull=True, state=MessageState.ACCEPTED))
        .exclude(state=MessageState.ERROR)
        .values("recipient")
        .distinct()
        .count()
    )


@dataclass
class TierBudget:
    """How many more unique recipients a send may message now; the rest are refused or deferred."""

    left: int
    defer: bool

    @property
    def not_before(self) -> datetime:
        # Every recipient counted now has left the rolling window 24 hours from now.
        return timezone.now() + WINDOW

    def take(self, count: int) -> int:
        """Of ``count`` new recipients, how many go now (the budget shrinks by that many)."""
        now = min(count, self.left)
        self.left -= now
        return now


def budget_for(bot: Bot, requested: int | None, over_tier: str) -> TierBudget | None:
    """The tier budget of a template send to ``requested`` recipients (None: unknown, a stream), or None.

    With ``over_tier="refuse"`` a send whose size is known and exceeds what is
    left raises :class:`MessagingTierExceeded` before anything is written.
    """
    if over_tier not in OVER_TIER_CHOICES:
        from ..exceptions import MessageValidationError

        raise MessageValidationError("over_tier", f"must be one of {', '.join(OVER_TIER_CHOICES)}, not {over_tier!r}")
    tier = bot.messaging_tier
    if not tier:
        return None  # unlimited
    used = unique_recipients_24h(bot)
    left = max(tier - used, 0)
    if over_tier == "refuse" and requested is not None and requested > left:
        raise MessagingTierExceeded(tier=tier, used=used, requested=requested)
    return TierBudget(left=left, defer=over_tier == "defer")
