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


# -- the console: send, inbox, reply, dashboard ---------------------------------------------

SCREENSHOTS = Path(os.environ.get("SINCH_SCREENSHOTS") or ARTIFACTS / "screenshots")


def screenshot(page, name: str) -> None:
    """Saved for people (CI keeps the folder as an artifact): look at them when a console page changes."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_operator_sends_sees_read_gets_a_reply_and_answers(
    page, live_server, live_sandbox_bot, fresh_sandbox, make_bot
):
    from django_sinch_whatsapp.models import InboundMessage

    from .conftest import wait_for

    bot = live_sandbox_bot
    page.goto(f"{live_server.url}/admin/sinch_whatsapp/bot/{bot.pk}/change/")
    page.click("a.sinch-send-link")
    page.fill("#id_numbers", "+46 73 200 11 22")
    page.select_option("#id_kind", "template")
    page.fill("#id_template", "order_update")
    page.fill("#id_body_params", "Ada\n#1234")
    screenshot(page, "01-send-template")
    page.click("input[name=_send]")
    page.wait_for_url(re.compile(r"/contact/\d+/inbox/$"))
    sent = OutboundMessage.objects.get(bot=bot)
    assert wait_for(lambda: OutboundMessage.objects.get(pk=sent.pk).state == MessageState.READ)
    page.reload()
    bubble = page.locator("#conversation li.out").first
    assert bubble.get_attribute("data-state") == "read"
    assert "order_update" in bubble.inner_text() and "read" in bubble.inner_text()
    assert "Template only" in page.locator("#window-state").inner_text()
    screenshot(page, "02-inbox-read")

    fresh_sandbox.inject_inbound(bot.sinch_bot_id, "46732001122", text="Thanks! When does it arrive?")
    assert wait_for(lambda: InboundMessage.objects.filter(bot=bot).exists())
    page.reload()
    assert "Thanks! When does it arrive?" in page.locator("#conversation li.in").last.inner_text()
    assert "window is open until" in page.locator("#window-state").inner_text()
    assert page.locator("#id_kind").input_value() == "text"
    page.fill("#id_text", "Tomorrow before noon.")
    page.click("input[name=_reply]")
    page.wait_for_selector(".messagelist .success")
    assert "Tomorrow before noon." in page.locator("#conversation li.out").last.inner_text()
    reply = OutboundMessage.objects.get(bot=bot, message_type="text")
    assert reply.payload["text"] == "Tomorrow before noon." and reply.sinch_message_id
    screenshot(page, "03-inbox-replied")

    wrong = make_bot(
        name="Wrong token",
        sinch_bot_id="wrong-bot",
        bearer_token="not-the-token",
        base_url_override=bot.base_url_override,
    )
    fresh_sandbox.register_bot(wrong.sinch_bot_id, TOKEN, region="us")
    page.goto(f"{live_server.url}/admin/sinch_whatsapp/bot/{wrong.pk}/send/")
    page.fill("#id_numbers", "+46732001122")
    page.fill("#id_template", "order_update")
    page.click("input[name=_send]")
    error = page.wait_for_selector(".sinch-form-errors")
    assert "Sinch answered HTTP 401" in error.inner_text() and "region" in error.inner_text()
    assert "not-the-token" not in page.content()
    screenshot(page, "04-send-401")

    assert wait_for(lambda: OutboundMessage.objects.get(pk=reply.pk).state == MessageState.READ)
    page.goto(f"{live_server.url}/admin/sinch_whatsapp/bot/")
    page.click("a.sinch-dashboard-link")
    page.wait_for_selector("#dashboard-totals")
    assert page.locator("#total-messages").inner_text() == "3"
    assert page.locator("#read").inner_text() == "2"
    assert page.locator("#read-rate").inner_text() == "100.0 %"
    assert "401" in page.locator("#failures").inner_text()
    assert int(page.locator("#callbacks-received").inner_text()) >= 6  # the reports of two messages, and the reply
    assert page.locator("svg.sinch-chart rect").count() >= 2
    screenshot(page, "05-dashboard")


def test_changelist_columns_are_not_clipped_at_1400_px(page, live_server, bot, errored_message):
    from django_sinch_whatsapp.models import CallbackEvent, Contact, InboundMessage

    bot.base_url_override = "http://127.0.0.1:8765/us1"
    bot.previous_callback_key = CALLBACK_KEY
    bot.save()
    contact = Contact.objects.create(bot=bot, number="+46732001122", profile_name="Ada Lovelace")
    InboundMessage.objects.create(
        bot=bot, contact=contact, sinch_message_id="in-1", from_number="46732001122", message_type="text", text="Hi"
    )
    CallbackEvent.objects.create(bot=bot, body=b"{}", payload=status_payload("x", "read"), signature_verdict="valid")
    page.set_viewport_size({"width": 1400, "height": 900})
    for model in ("bot", "contact", "outboundmessage", "inboundmessage", "callbackevent"):
        page.goto(f"{live_server.url}/admin/sinch_whatsapp/{model}/")
        clipped = page.evaluate(
            """() => [...document.querySelectorAll('#result_list th, #result_list td')]
                .filter(cell => cell.scrollWidth > cell.clientWidth + 1
                    || [...cell.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflow !== 'visible'))
                .map(cell => cell.innerText.trim())"""
        )
        table_right = page.evaluate("() => document.querySelector('#result_list').getBoundingClientRect().right")
        scrolls = page.evaluate(
            "() => { const r = document.querySelector('.results'); return r.scrollWidth > r.clientWidth; }"
        )
        screenshot(page, f"list-1400-{model}")
        assert not clipped, f"{model}: clipped {clipped}"
        assert table_right <= 1400, f"{model}: the table ends at {table_right}px"
        assert not scrolls, f"{model}: the list is wider than its box (columns cut off behind a scrollbar)"
    page.goto(f"{live_server.url}/admin/sinch_whatsapp/bot/{bot.pk}/change/")
    field = page.locator("#id_base_url_override")
    assert field.evaluate("e => e.scrollWidth <= e.clientWidth")


def test_a_capped_list_says_more_than_and_selecting_across_it_acts_on_every_row(page, live_server, bot, monkeypatch):
    from django_sinch_whatsapp.admin.large_tables import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "limit", 3)  # the live server runs in this process
    monkeypatch.setattr("django_sinch_whatsapp.admin.callbacks.CallbackEventAdmin.list_per_page", 2)
    events = []
    for i in range(5):
        payload = status_payload(f"capped-{i}", "delivered")
        events.append(
            CallbackEvent.objects.create(
                bot=bot, body=json.dumps(payload).encode(), payload=payload, processing_state="failed", attempts=1
            )
        )
    page.goto(f"{live_server.url}/admin/sinch_whatsapp/callbackevent/")
    assert "More than 3 callback" in page.locator(".sinch-capped-count").inner_text()
    assert page.locator(".paginator a.showall").count() == 0
    page.check("#action-toggle")  # this page's rows
    question = page.locator(".actions .question a")
    question.wait_for(state="visible")
    assert question.inner_text().endswith("(more than 3)")
    question.click()  # every row the filters match, not the 3 counted
    assert "All of more than 3 selected" in page.locator(".actions .all").inner_text()
    screenshot(page, "capped-changelist-select-across")
    page.select_option("select[name=action]", "reprocess")
    page.click("button[name=index]")
    success = page.wait_for_selector(".messagelist .success")
    assert "Reprocessed 5 callback(s)" in success.inner_text(), success.inner_text()
    assert {e.processing_state for e in CallbackEvent.objects.filter(pk__in=[e.pk for e in events])} == {"processed"}
