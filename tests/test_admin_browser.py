"""The admin driven in a real headless Chromium (Debian's, never a downloaded one)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from django.db import connection

from django_sinch_whatsapp.models import Bot, CallbackEvent, MessageState, OutboundMessage

from .conftest import CALLBACK_KEY, TOKEN
from .webhook_helpers import status_payload

# The test database first: a live server started before it sees SQLite's ":memory:" name
# and shares this thread's connection with its request threads (which can crash SQLite).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("django_db_setup")]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "pw-operator-1"


def stored_ciphertexts(bot: Bot) -> tuple[str, str]:
    table = connection.ops.quote_name(Bot._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT bearer_token, callback_key FROM {table} WHERE id = %s", [bot.pk])
        return tuple(cursor.fetchone())


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread while it is started;
    # the ORM calls made here meanwhile (tests, database flushes) are plain synchronous ones.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server, transactional_db, django_user_model):
    django_user_model.objects.create_superuser("operator", "operator@example.com", PASSWORD)
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    yield page
    context.close()


def test_bot_set_up_keeps_secrets_write_only(page, live_server, organization):
    page.goto(f"{live_server.url}/admin/sinch_whatsapp/bot/add/")
    page.select_option("#id_tenant", label=organization.name)
    page.fill("#id_name", "Support line")
    page.fill("#id_sinch_bot_id", "browser-bot")
    page.select_option("#id_region", "eu")
    page.fill("#id_bearer_token", TOKEN)
    page.fill("#id_callback_key", CALLBACK_KEY)
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    bot = Bot.objects.get(sinch_bot_id="browser-bot")
    assert bot.region == "eu"
    assert bot.bearer_token.reveal() == TOKEN and bot.callback_key.reveal() == CALLBACK_KEY

    page.goto(f"{live_server.url}/admin/sinch_whatsapp/bot/{bot.pk}/change/")
    for name in ("bearer_token", "callback_key"):
        field = page.locator(f"#id_{name}")
        assert field.get_attribute("type") == "password"
        assert field.input_value() == ""
        assert "set (hidden)" in field.get_attribute("placeholder")
    assert page.locator("#id_previous_callback_key").get_attribute("placeholder") == "not set"
    assert bot.callback_path in page.locator(".field-webhook_path").inner_text()
    html = page.content()
    stored = stored_ciphertexts(bot)
    for secret in (TOKEN, CALLBACK_KEY, *stored):
        assert secret not in html
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-bot-change.png"), full_page=True)

    page.fill("#id_name", "Support line (EU)")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    bot.refresh_from_db()
    assert bot.name == "Support line (EU)"
    assert bot.bearer_token.reveal() == TOKEN
    assert bot.callback_key.reveal() == CALLBACK_KEY
    assert stored_ciphertexts(bot) == stored  # kept, not even re-encrypted


def test_error_list_and_reprocessing_a_callback(page, live_server, bot, errored_message):
    delivered = OutboundMessage.objects.create(
        bot=bot,
        recipient="46732001133",
        message_type="text",
        payload={"type": "text", "text": "hello"},
        sinch_message_id="browser-sinch-id",
        state=MessageState.QUEUED,
    )
    payload = status_payload("browser-sinch-id", "delivered")
    event = CallbackEvent.objects.create(
        bot=bot,
        body=json.dumps(payload).encode(),
        payload=payload,
        signature_verdict="valid",
        verified_with="current",
        processing_state="failed",
        processing_error="Traceback ...\nOperationalError: database is locked",
        attempts=1,
    )

    page.goto(f"{live_server.url}/admin/sinch_whatsapp/outboundmessage/?state__exact=error")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    row_text = rows.first.inner_text()
    assert "401" in row_text and "Unauthorized: Invalid token" in row_text

    page.goto(f"{live_server.url}/admin/sinch_whatsapp/callbackevent/")
    page.check(f"input[name=_selected_action][value='{event.pk}']")
    page.select_option("select[name=action]", "reprocess")
    page.click("button[name=index]")
    success = page.wait_for_selector(".messagelist .success")
    assert "Reprocessed 1 callback(s)" in success.inner_text()
    event.refresh_from_db()
    assert event.processing_state == "processed"
    delivered.refresh_from_db()
    assert delivered.state == MessageState.DELIVERED
