"""Keeping inbound media: Sinch's media URLs expire after seven days (whatsapp-callback.md, "Media")."""

from __future__ import annotations

import logging
import mimetypes
import tempfile

import requests
from django.core.files import File
from django.core.files.storage import storages

from ..client.session import USER_AGENT
from ..conf import app_settings
from ..models import InboundMessage

logger = logging.getLogger("django_sinch_whatsapp.media")

CHUNK = 64 * 1024


def download_inbound_media(message: InboundMessage) -> InboundMessage:
    """Stream the media into storage, refusing files over ``INBOUND_MEDIA_MAX_BYTES``.

    The outcome is recorded on the row: ``media_file``/``media_size``, or
    ``media_error`` with the reason. Safe to call again: a stored file is kept.
    """
    if message.media_file:
        return message
    url = str((message.content or {}).get("url") or "")
    if not url.startswith(("http://", "https://")):
        return record_media_error(message, "no media URL in the message")
    limit = int(app_settings.INBOUND_MEDIA_MAX_BYTES)
    timeout = (float(app_settings.CONNECT_TIMEOUT), float(app_settings.READ_TIMEOUT))
    try:
        with requests.get(url, stream=True, timeout=timeout, headers={"User-Agent": USER_AGENT}) as response:
            if response.status_code != 200:
                return record_media_error(message, f"HTTP {response.status_code} from the media URL")
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > limit:
                return record_media_error(message, f"{declared} bytes is over the {limit}-byte limit")
            with tempfile.SpooledTemporaryFile(max_size=1024 * 1024) as buffer:
                size = 0
                for chunk in response.iter_content(CHUNK):
                    size += len(chunk)
                    if size > limit:
                        return record_media_error(message, f"more than the {limit}-byte limit")
                    buffer.write(chunk)
                buffer.seek(0)
                mime = str((message.content or {}).get("mime_type") or response.headers.get("Content-Type") or "")
                storage = storages[str(app_settings.INBOUND_MEDIA_STORAGE)]
                name = storage.save(_file_name(message, mime), File(buffer))
    except requests.RequestException as err:
        return record_media_error(message, f"download failed: {type(err).__name__}")
    message.media_file.name = name
    message.media_size = size
    message.media_error = ""
    message.save(update_fields=["media_file", "media_size", "media_error"])
    return message


def _file_name(message: InboundMessage, mime: str) -> str:
    extension = mimetypes.guess_extension(mime.split(";")[0].strip()) or ""
    filename = str((message.content or {}).get("filename") or "")
    if filename and "." in filename:
        extension = "." + filename.rsplit(".", 1)[1][:10]
    safe_id = "".join(ch for ch in message.sinch_message_id if ch.isalnum() or ch in "-_")[:80]
    return f"{app_settings.INBOUND_MEDIA_PATH}/{message.bot_id}/{safe_id}{extension}"


def record_media_error(message: InboundMessage, reason: str) -> InboundMessage:
    logger.warning("Inbound media of %s not kept: %s", message.pk, reason)
    message.media_error = reason[:300]
    message.save(update_fields=["media_error"])
    return message
