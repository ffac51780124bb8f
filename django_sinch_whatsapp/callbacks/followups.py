"""Work that follows a stored inbound message, after its transaction commits.

Kept out of the processing transaction: a slow or failing call to Sinch must
never roll back (or hold locks on) what the callback already recorded.
"""

from __future__ import annotations

import logging

from django.db import transaction

from ..conf import app_settings
from ..models import InboundMessage, SignatureVerdict

logger = logging.getLogger("django_sinch_whatsapp.callbacks")

MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "voice", "sticker"})


def schedule_after_inbound(message: InboundMessage) -> None:
    wants_read = bool(app_settings.AUTO_MARK_READ) and message.message_type != "error"
    # Only from signed callbacks: an unsigned one (REQUIRE_SIGNED_CALLBACKS off) must not make us fetch URLs.
    verified = message.callback is not None and message.callback.signature_verdict == SignatureVerdict.VALID
    wants_media = bool(app_settings.INBOUND_MEDIA_DOWNLOAD) and message.message_type in MEDIA_TYPES and verified
    if not (wants_read or wants_media):
        return
    pk = message.pk

    def run() -> None:
        if app_settings.DISPATCH_BACKEND == "celery":
            from ..tasks import inbound_followups_task

            inbound_followups_task.delay(pk, wants_read, wants_media)
        else:
            run_followups(pk, mark_read=wants_read, download_media=wants_media)

    # robust: the callback is stored and processed; a failure here must not turn it into a 500.
    transaction.on_commit(run, robust=True)


def run_followups(pk: int, *, mark_read: bool, download_media: bool) -> None:
    from ..exceptions import SinchWhatsAppError
    from ..services.provisioning import mark_read as mark_read_at_sinch

    message = InboundMessage.objects.select_related("bot").filter(pk=pk).first()
    if message is None:
        return
    if mark_read:
        try:
            mark_read_at_sinch(message)
        except SinchWhatsAppError as err:
            logger.warning("Could not mark inbound message %s read: %s", pk, err)
    if download_media:
        from ..services.media import download_inbound_media, record_media_error

        try:
            download_inbound_media(message)
        except Exception as err:  # storage errors and the like: recorded, never lost silently
            logger.exception("Downloading the media of inbound message %s failed", pk)
            record_media_error(message, f"{type(err).__name__}: {err}")
