"""Checks every service that calls Sinch for a bot makes first, so the API and the admin refuse alike."""

from __future__ import annotations

from ..exceptions import MessageValidationError
from ..models import Bot
from ..transports.base import Feature


def require_active(bot: Bot, doing: str = "call Sinch") -> None:
    """An inactive bot sends nothing and calls Sinch for nothing (the send path says the same)."""
    if not bot.is_active:
        raise MessageValidationError("bot", f"is inactive; activate it to {doing}")


def require_feature(bot: Bot, feature: Feature) -> None:
    """Refuse a feature the bot's transport lacks (stickerpacks on Conversation), naming the transport."""
    from ..clients import verifier_for_bot

    verifier_for_bot(bot).require(feature)
