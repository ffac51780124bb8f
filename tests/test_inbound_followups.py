"""After an inbound message is stored: optional read receipt and media download."""

from __future__ import annotations

import http.server
import threading

import pytest

from django_sinch_whatsapp.models import InboundMessage

from .conftest import wait_for
from .webhook_helpers import post_callback

pytestmark = pytest.mark.django_db(transaction=True)

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 2048


@pytest.fixture
def media_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = PNG if self.path.startswith("/img") else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def image_payload(message_id, url):
    return {
        "type": "whatsapp",
        "notifications": [
            {
                "from": "46732001122",
                "to": "sinchbot",
                "message_id": message_id,
                "message": {"type": "image", "url": url, "mime_type": "image/png", "caption": "Look"},
                "timestamp": "2026-11-25T10:00:00Z",
            }
        ],
    }


def test_auto_mark_read_posts_events_and_records_read_at(client, sandbox_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "AUTO_MARK_READ": True}
    message_id = fresh_sandbox.inject_inbound(sandbox_bot.sinch_bot_id, "46732001122", text="hi")
    payload = {
        "type": "whatsapp",
        "notifications": [
            {"from": "46732001122", "to": "x", "message_id": message_id, "message": {"type": "text", "body": "hi"}}
        ],
    }
    assert post_callback(client, sandbox_bot, payload).status_code == 200
    inbound = InboundMessage.objects.get()
    assert inbound.read_at is not None
    events = [r for r in fresh_sandbox.requests_log if r["path"].endswith("/events")]
    assert [e["body"] for e in events] == [{"type": "read", "message_id": message_id}]


def test_no_read_receipt_unless_asked(client, sandbox_bot, fresh_sandbox):
    message_id = fresh_sandbox.inject_inbound(sandbox_bot.sinch_bot_id, "46732001122", text="hi")
    payload = {
        "type": "whatsapp",
        "notifications": [{"from": "46732001122", "message_id": message_id, "message": {"type": "text", "body": "hi"}}],
    }
    assert post_callback(client, sandbox_bot, payload).status_code == 200
    assert InboundMessage.objects.get().read_at is None
    assert fresh_sandbox.count("POST", "/events") == 0


def test_media_is_downloaded_into_storage(client, bot, media_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "INBOUND_MEDIA_DOWNLOAD": True}
    assert post_callback(client, bot, image_payload("img-1", f"{media_server}/img.png")).status_code == 200
    inbound = InboundMessage.objects.get()
    assert inbound.media_error == "" and inbound.media_size == len(PNG)
    assert inbound.media_file.name.endswith("img-1.png")
    with inbound.media_file.open("rb") as handle:
        assert handle.read() == PNG


def test_media_over_the_limit_is_refused_with_the_reason(client, bot, media_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SINCH_WHATSAPP = {
        **settings.SINCH_WHATSAPP,
        "INBOUND_MEDIA_DOWNLOAD": True,
        "INBOUND_MEDIA_MAX_BYTES": 1000,
    }
    assert post_callback(client, bot, image_payload("img-2", f"{media_server}/img.png")).status_code == 200
    inbound = InboundMessage.objects.get()
    assert not inbound.media_file and "1000-byte limit" in inbound.media_error
    assert list(tmp_path.rglob("*.png")) == []


def test_media_url_that_fails_is_recorded(client, bot, media_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "INBOUND_MEDIA_DOWNLOAD": True}
    assert post_callback(client, bot, image_payload("img-3", f"{media_server}/gone.png")).status_code == 200
    assert wait_for(lambda: InboundMessage.objects.get().media_error) == "HTTP 404 from the media URL"


def test_no_media_download_from_unsigned_callbacks(client, make_bot, media_server, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SINCH_WHATSAPP = {
        **settings.SINCH_WHATSAPP,
        "INBOUND_MEDIA_DOWNLOAD": True,
        "REQUIRE_SIGNED_CALLBACKS": False,
    }
    bot = make_bot(callback_key="")
    assert post_callback(client, bot, image_payload("img-4", f"{media_server}/img.png"), key=None).status_code == 200
    inbound = InboundMessage.objects.get()
    assert not inbound.media_file and inbound.media_error == ""
    assert list(tmp_path.rglob("*")) == []


def test_storage_failure_is_recorded_and_the_callback_still_succeeds(client, bot, media_server, settings, monkeypatch):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "INBOUND_MEDIA_DOWNLOAD": True}
    from django.core.files.storage import FileSystemStorage

    def broken_save(self, name, content, max_length=None):
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemStorage, "save", broken_save)
    response = post_callback(client, bot, image_payload("img-5", f"{media_server}/img.png"))
    assert response.status_code == 200
    from django_sinch_whatsapp.models import CallbackEvent

    assert CallbackEvent.objects.get().processing_state == "processed"
    assert "disk full" in InboundMessage.objects.get().media_error
