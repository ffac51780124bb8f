"""The operations console: bots with write-only secrets, messages with their history, raw callbacks.

Importing this package (Django's admin autodiscovery does) registers every admin class.
"""

from __future__ import annotations

from .bots import BotAdmin, BotForm
from .callbacks import CallbackEventAdmin
from .campaigns import CampaignAdmin
from .common import ReadOnlyAdminMixin, sinch_error_text
from .messages import ContactAdmin, InboundMessageAdmin, OutboundMessageAdmin, StatusEventInline
from .provisioning import MediaProviderAdmin, StickerAdmin, StickerpackAdmin

__all__ = [
    "BotAdmin",
    "BotForm",
    "CallbackEventAdmin",
    "CampaignAdmin",
    "ContactAdmin",
    "InboundMessageAdmin",
    "MediaProviderAdmin",
    "OutboundMessageAdmin",
    "ReadOnlyAdminMixin",
    "StatusEventInline",
    "StickerAdmin",
    "StickerpackAdmin",
    "sinch_error_text",
]
