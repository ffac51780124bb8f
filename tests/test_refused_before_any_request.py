"""Sends refuse what Sinch would refuse, before any request, naming the field and the rule (issue 7, item 5).

Each case goes end to end through the service layer and, where there is one, the API; the sandbox
records zero requests and no row is written.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rest_framework.test import APIClient

from django_sinch_whatsapp import services
from django_sinch_whatsapp.client import messages
from django_sinch_whatsapp.client.stickerpacks import user_visible_characters
from django_sinch_whatsapp.clients import client_for_bot
from django_sinch_whatsapp.exceptions import MessageValidationError, SinchUnexpectedAnswer
from django_sinch_whatsapp.models import OutboundMessage, Sticker, Stickerpack, StickerpackNamespace

pytestmark = pytest.mark.django_db(transaction=True)

CARD = {"name": {"formatted_name": "John Doe"}}

# (message, field, words of the rule)
REFUSED_MESSAGES = [
    ({"type": "text", "text": "   \n\t "}, "message.text", "only whitespace"),
    ({"type": "template", "template_name": "t", "language": "EN-us"}, "message.language", "whatsapp-introduction"),
    ({"type": "contacts", "contacts": [{**CARD, "addresses": [{"street": "S 1"}]}]}, "addresses[0].city", "required"),
    ({"type": "contacts", "contacts": [{**CARD, "addresses": [{"city": "  "}]}]}, "addresses[0].city", "whitespace"),
    ({"type": "contacts", "contacts": [{**CARD, "org": {"title": "CEO"}}]}, "org.company", "required"),
    ({"type": "contacts", "contacts": [{**CARD, "emails": [{"type": "WORK"}]}]}, "emails[0].email", "required"),
    ({"type": "contacts", "contacts": [{**CARD, "phones": [{"type": "CELL"}]}]}, "phones[0].phone", "required"),
    ({"type": "contacts", "contacts": [{**CARD, "urls": [{"type": "WORK"}]}]}, "urls[0].url", "required"),
    ({"type": "contacts", "contacts": [{**CARD, "urls": [{"url": ""}]}]}, "urls[0].url", "empty"),
]


def sinch_requests(sandbox):
    return [entry for entry in sandbox.requests_log if entry["path"].startswith("/")]


@pytest.fixture
def api(api_user):
    client = APIClient()
    client.force_authenticate(api_user)
    return client


@pytest.mark.parametrize(("message", "field", "rule"), REFUSED_MESSAGES)
def test_the_service_refuses_the_message(sandbox_bot, fresh_sandbox, message, field, rule):
    with pytest.raises(MessageValidationError) as info:
        services.send_message(sandbox_bot, ["46732001122"], message, allow_outside_window=True)
    assert info.value.field.endswith(field) and rule in info.value.problem
    assert fresh_sandbox.requests_log == [] and not OutboundMessage.objects.exists()


@pytest.mark.parametrize(("message", "field", "rule"), REFUSED_MESSAGES)
def test_the_api_refuses_the_message(api, sandbox_bot, fresh_sandbox, message, field, rule):
    body = {"to": ["46732001122"], "message": message, "allow_outside_window": True}
    response = api.post(f"/api/sinch-whatsapp/bots/{sandbox_bot.pk}/send/", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["field"].endswith(field) and rule in error["message"]
    assert fresh_sandbox.requests_log == [] and not OutboundMessage.objects.exists()


def test_whitespace_only_text_is_refused_by_the_api_text_shortcut(api, sandbox_bot, fresh_sandbox):
    body = {"to": ["46732001122"], "text": " \u00a0 ", "allow_outside_window": True}
    response = api.post(f"/api/sinch-whatsapp/bots/{sandbox_bot.pk}/send/", body, format="json")
    assert response.status_code == 400 and response.json()["error"]["field"] == "message.text"
    assert fresh_sandbox.requests_log == []


def test_a_template_language_in_another_case_is_sent_as_the_docs_spell_it(sandbox_bot, fresh_sandbox):
    message = {"type": "template", "template_name": "hello", "language": "EN"}
    services.send_message(sandbox_bot, ["46732001122"], message)
    [post] = [r for r in fresh_sandbox.requests_log if r["path"].endswith("/messages")]
    assert post["body"]["message"]["language"] == "en"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "/relative/hook",
        "example.com/hook",
        "javascript:alert(1)",
        "https://",
    ],
)
def test_a_callback_that_is_not_an_absolute_http_url_is_refused(api, sandbox_bot, fresh_sandbox, url):
    with pytest.raises(MessageValidationError) as info:
        services.send_text(sandbox_bot, ["46732001122"], "Hi", callback_url=url, allow_outside_window=True)
    assert info.value.field == "callback" and "absolute http:// or https:// URL" in info.value.problem
    body = {"to": ["46732001122"], "text": "Hi", "callback_url": url, "allow_outside_window": True}
    response = api.post(f"/api/sinch-whatsapp/bots/{sandbox_bot.pk}/send/", body, format="json")
    assert response.status_code == 400
    assert fresh_sandbox.requests_log == [] and not OutboundMessage.objects.exists()


def test_a_bad_public_base_url_is_refused_naming_the_setting(sandbox_bot, fresh_sandbox, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PUBLIC_BASE_URL": "hooks.example.com"}
    with pytest.raises(MessageValidationError) as info:
        services.send_text(sandbox_bot, ["46732001122"], "Hi", allow_outside_window=True)
    assert "PUBLIC_BASE_URL" in info.value.field
    assert fresh_sandbox.requests_log == []


def test_a_valid_callback_is_sent(sandbox_bot, fresh_sandbox):
    services.send_text(
        sandbox_bot, ["46732001122"], "Hi", callback_url="https://hooks.example.com/cb", allow_outside_window=True
    )
    [post] = [r for r in fresh_sandbox.requests_log if r["path"].endswith("/messages")]
    assert post["body"]["callback"] == "https://hooks.example.com/cb"


def test_group_recipients_are_refused_by_the_api(api, sandbox_bot, fresh_sandbox):
    body = {"to": ["group:46732001122-1590000000"], "text": "Hi", "allow_outside_window": True}
    response = api.post(f"/api/sinch-whatsapp/bots/{sandbox_bot.pk}/send/", body, format="json")
    assert response.status_code == 400
    [rejected] = response.json()["rejected"]
    assert "2021-06-08" in rejected["reason"] and "ALLOW_GROUP_RECIPIENTS" in rejected["reason"]
    assert fresh_sandbox.requests_log == []


# -- stickerpacks -------------------------------------------------------------------------------------


@pytest.fixture
def pack(sandbox_bot):
    return Stickerpack.objects.create(
        bot=sandbox_bot, sinch_id="pack-1", namespace=StickerpackNamespace.THIRD_PARTY, publisher="P", name="N"
    )


@pytest.mark.parametrize(
    ("links", "field"),
    [
        ({"ios_app_store_link": "not a url"}, "ios_app_store_link"),
        ({"ios_app_store_link": "https://evil.example/app"}, "ios_app_store_link"),
        ({"android_app_store_link": "ftp://play.google.com/store"}, "android_app_store_link"),
        ({"android_app_store_link": "https://apps.apple.com/app/id1"}, "android_app_store_link"),
    ],
)
def test_store_links_that_are_not_store_urls_are_refused(sandbox_bot, fresh_sandbox, pack, links, field):
    with pytest.raises(MessageValidationError) as info:
        services.create_stickerpack(sandbox_bot, publisher="P", name="N", **links)
    assert info.value.field == field
    with pytest.raises(MessageValidationError):
        services.update_stickerpack(pack, **links)
    assert fresh_sandbox.requests_log == [] and Stickerpack.objects.count() == 1


@pytest.mark.parametrize("url", ["", "sticker.webp", "file:///etc/passwd", "https://"])
def test_sticker_urls_that_are_not_urls_are_refused(fresh_sandbox, pack, url):
    with pytest.raises(MessageValidationError) as info:
        services.add_sticker(pack, url, ["🐥"])
    assert info.value.field == "url"
    assert fresh_sandbox.requests_log == [] and not Sticker.objects.exists()


@pytest.mark.parametrize("emoji", ["🐥😃", "ab", "😃 ", "🐥\u200b🐥", "🇸🇪🇸🇪"])
def test_an_emoji_entry_of_more_than_one_character_is_refused(fresh_sandbox, pack, emoji):
    with pytest.raises(MessageValidationError) as info:
        services.add_sticker(pack, "https://example.com/s.webp", [emoji])
    assert info.value.field == "emojis[0]"
    assert fresh_sandbox.requests_log == []


@pytest.mark.parametrize(
    "emoji",
    [
        "😃",
        "🐥",
        "❤️",
        "👍🏽",
        "🇸🇪",
        "👨‍👩‍👧‍👦",
        "🏳️‍🌈",
        "1️⃣",
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        "é",
    ],
)
def test_one_user_visible_character_is_one_entry(emoji):
    assert user_visible_characters(emoji) == 1


# -- callback store filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"from_number": "46732001122 ext. 5"}, "from"),
        ({"from_number": "abc"}, "from"),
        ({"start_time": "yesterday"}, "start_time"),
        ({"end_time": "2019-13-45T00:00:00Z"}, "end_time"),
        ({"start_time": "2020-01-02T00:00:00Z", "end_time": "2020-01-01T00:00:00Z"}, "start_time"),
    ],
)
def test_callback_store_filters_are_checked_before_any_request(sandbox_bot, fresh_sandbox, filters, field):
    with pytest.raises(MessageValidationError) as info:
        client_for_bot(sandbox_bot).stored_inbound_notifications(**filters)
    assert info.value.field == field
    assert fresh_sandbox.requests_log == []


def test_callback_store_filters_are_sent_normalized(sandbox_bot, fresh_sandbox):
    client_for_bot(sandbox_bot).stored_inbound_notifications(
        from_number="+46 73-200 11 22", start_time="2020-01-01T01:00:00+01:00"
    )
    [request] = fresh_sandbox.requests_log
    assert request["body"]["from"] == "46732001122"
    assert request["body"]["start_time"] == "2020-01-01T00:00:00.000Z"


# -- a create answered 2xx without an id is an error, never a row with an empty id --------------------------


class _NoIdHandler(BaseHTTPRequestHandler):
    """Answers every POST 201 with ``{}`` and every GET with a sticker without an id."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer(201, {})

    def do_GET(self) -> None:
        self._answer(200, {"emojis": []})

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def no_id_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoIdHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_stickerpack_created_without_an_id_is_an_error_and_no_row(make_bot, no_id_server):
    bot = make_bot(base_url_override=no_id_server)
    with pytest.raises(SinchUnexpectedAnswer, match="stickerpack id"):
        services.create_stickerpack(bot, publisher="P", name="N")
    assert not Stickerpack.objects.exists()


def test_a_sticker_created_without_an_index_is_an_error_and_no_row(make_bot, no_id_server):
    bot = make_bot(base_url_override=no_id_server)
    pack = Stickerpack.objects.create(bot=bot, sinch_id="p", namespace=StickerpackNamespace.THIRD_PARTY)
    with pytest.raises(SinchUnexpectedAnswer, match="sticker index"):
        services.add_sticker(pack, "https://example.com/s.webp")
    assert not Sticker.objects.exists()


def test_messages_module_exports_the_callback_check():
    assert messages.validate_callback_url("https://e.com/x") == "https://e.com/x"
    assert messages.validate_callback_url(None) is None
