"""The one place where models meet the Sinch client (see the sub-modules).

Callers import from here: ``from django_sinch_whatsapp import services``.
"""

from __future__ import annotations

from .provisioning import (
    CapabilityOutcome,
    FailedBatch,
    NumbersOutcome,
    add_media_provider,
    add_sticker,
    blacklist_add,
    blacklist_remove,
    check_capability,
    create_stickerpack,
    delete_media_provider,
    delete_sticker,
    delete_stickerpack,
    list_blacklist,
    mark_read,
    opt_in,
    opt_out,
    sync_media_providers,
    sync_stickerpacks,
    sync_stickers,
    update_sticker,
    update_stickerpack,
)
from .sending import RejectedRecipient, SendOutcome, send_message, send_text

__all__ = [
    "CapabilityOutcome",
    "FailedBatch",
    "NumbersOutcome",
    "RejectedRecipient",
    "SendOutcome",
    "add_media_provider",
    "add_sticker",
    "blacklist_add",
    "blacklist_remove",
    "check_capability",
    "create_stickerpack",
    "delete_media_provider",
    "delete_sticker",
    "delete_stickerpack",
    "list_blacklist",
    "mark_read",
    "opt_in",
    "opt_out",
    "send_message",
    "send_text",
    "sync_media_providers",
    "sync_stickerpacks",
    "sync_stickers",
    "update_sticker",
    "update_stickerpack",
]
