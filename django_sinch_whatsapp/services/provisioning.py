"""Provisioning: opt-in/out, capability, mark-as-read, blacklist, media providers, stickerpacks.

Each function calls Sinch first and records the effect only once Sinch has
accepted it: contacts' opt-in state and capability, an inbound message's
``read_at``, and the media provider and stickerpack mirrors
(:mod:`django_sinch_whatsapp.models.provisioning`). No database transaction is
held open across a Sinch call.

Numbers are normalized like recipients of a send (``+46 73-200 11 22`` ->
``46732001122`` on the wire, ``+46732001122`` on contacts); invalid ones are
reported per number in the outcome while the valid ones are still sent, in
requests of at most 20 numbers. A batch Sinch refuses is reported with its
error and the other batches still go.

The blacklist has no mirror: Sinch applies changes within about five minutes
(whatsapp-blacklist-callback.md), so a local copy would claim states Sinch does
not yet apply, and its paged list is cheap to read when someone asks.

The functions live by area in :mod:`.contacts` (opt-in/out, capability, read,
blacklist), :mod:`.media_providers` and :mod:`.stickerpacks`; the outcomes and
the batching they share in :mod:`.numbers`. This module re-exports them.
"""

from __future__ import annotations

# Re-exported for callers of this module (``from ..services.provisioning import mark_read``): hence F401.
from .contacts import blacklist_add, blacklist_remove, check_capability, list_blacklist, mark_read, opt_in, opt_out  # noqa: F401
from .media_providers import add_media_provider, delete_media_provider, sync_media_providers  # noqa: F401
from .numbers import CapabilityOutcome, FailedBatch, NumbersOutcome  # noqa: F401
from .stickerpacks import (  # noqa: F401
    add_sticker,
    create_stickerpack,
    delete_sticker,
    delete_stickerpack,
    sync_stickerpacks,
    sync_stickers,
    update_sticker,
    update_stickerpack,
)
