"""Models, one module per area; import them from here."""

from .bots import (
    Bot,
    ConversationRegion,
    MessagingTier,
    Region,
    new_webhook_id,
    validate_base_url_override,
)
from .callbacks import CallbackEvent, CallbackRefusalStats, ProcessingState, SignatureVerdict
from .campaigns import Campaign, CampaignRow, CampaignRowState
from .contacts import CUSTOMER_CARE_WINDOW, Capability, Contact, OptInState
from .idempotency import IdempotencyKey
from .messages import (
    FINAL_STATES,
    LOCKED_STATES,
    STATE_RANK,
    TERMINAL_STATES,
    InboundMessage,
    MessageState,
    MessageType,
    OutboundMessage,
    StatusEvent,
)
from .provisioning import MediaProvider, MediaProviderKind, Sticker, Stickerpack, StickerpackNamespace

__all__ = [
    "CUSTOMER_CARE_WINDOW",
    "FINAL_STATES",
    "LOCKED_STATES",
    "STATE_RANK",
    "TERMINAL_STATES",
    "Bot",
    "CallbackEvent",
    "CallbackRefusalStats",
    "Campaign",
    "CampaignRow",
    "CampaignRowState",
    "Capability",
    "Contact",
    "ConversationRegion",
    "IdempotencyKey",
    "InboundMessage",
    "MediaProvider",
    "MediaProviderKind",
    "MessageState",
    "MessageType",
    "MessagingTier",
    "OptInState",
    "OutboundMessage",
    "ProcessingState",
    "Region",
    "SignatureVerdict",
    "StatusEvent",
    "Sticker",
    "Stickerpack",
    "StickerpackNamespace",
    "new_webhook_id",
    "validate_base_url_override",
]
