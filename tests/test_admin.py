"""The admin as an operations console: pages render, secrets never show, actions tell the truth."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_sinch_whatsapp.exceptions import SecretDecryptionError, SinchUnauthorized
from django_sinch_whatsapp.models import (
    Bot,
    CallbackEvent,
    Contact,
    InboundMessage,
    MessageState,
    OutboundMessage,
    StatusEvent,
)
from tests.tenants.models import Organization

from .conftest import CALLBACK_KEY, TOKEN
from .webhook_helpers import status_payload

pytestmark = pytest.mark.django_db

PREVIOUS_KEY = "previous-signing-key-9876543210"
REGION_HINT = "region (US or EU)"
MODELS = ["bot", "contact", "outboundmessage", "inboundmessage", "callbackevent"]


def changelist(model: str) -> str:
    return reverse(f"admin:sinch_whatsapp_{model}_changelist")


def change(model: str, pk) -> str:
    return reverse(f"admin:sinch_whatsapp_{model}_change", args=[pk])


def stored_columns(bot: Bot) -> tuple[str, str, str]:
    """The ciphertexts exactly as stored, read past the model field."""
    table = connection.ops.quote_name(Bot._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT bearer_token, callback_key, previous_callback_key FROM {table} WHERE id = %s",
            [bot.pk],
        )
        return cursor.fetchone()


def shown_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def make_callback(bot: Bot, payload: dict, **fields) -> CallbackEvent:
    body = json.dumps(payload).encode()
    values = {"bot": bot, "body": body, "payload": payload, "signature_verdict": "valid", "verified_with": "current"}
    values.update(fields)
    return CallbackEvent.objects.create(**values)


def populate(bots: list[Bot], count: int, start: int = 0) -> None:
    """``count`` rows of every kind, spread over ``bots``, each row pointing at related rows."""
    now = timezone.now()
    for i in range(start, start + count):
        bot = bots[i % len(bots)]
        number = f"+4673200{i:04d}"
        contact = Contact.objects.create(
            bot=bot, number=number, profile_name=f"Person {i}", last_inbound_at=now - timedelta(hours=i)
        )
        sinch_id = f"sinch-{i}"
        callback = make_callback(
            bot, status_payload(sinch_id, "delivered"), processing_state="processed", nonce=f"nonce-{i}"
        )
        errored = i % 3 == 0
        message = OutboundMessage.objects.create(
            bot=bot,
            contact=contact,
            recipient=number[1:],
            message_type="text",
            payload={"type": "text", "text": f"hello {i}"},
            sinch_message_id=None if errored else sinch_id,
            state=MessageState.ERROR if errored else MessageState.DELIVERED,
            error_status_code=401 if errored else None,
            error_message="Unauthorized" if errored else "",
            error_details="Invalid token" if errored else "",
        )
        if not errored:
            for state in ("queued", "delivered"):
                StatusEvent.objects.create(
                    bot=bot, message=message, sinch_message_id=sinch_id, state=state, callback=callback
                )
        InboundMessage.objects.create(
            bot=bot,
            contact=contact,
            sinch_message_id=f"in-{i}",
            from_number=number[1:],
            from_e164=number,
            message_type="text",
            text=f"question {i}",
            content={"type": "text", "body": f"question {i}"},
            callback=callback,
        )


@pytest.fixture
def bots(bot, make_bot):
    bot.previous_callback_key = PREVIOUS_KEY
    bot.save()
    other = Organization.objects.create(name="Globex")
    return [bot, make_bot(tenant=other, name="Sales", sinch_bot_id="sales-bot", region="eu")]


@pytest.fixture
def view_only_client(client, django_user_model, organization):
    user = django_user_model.objects.create_user("viewer", password="pw-viewer", is_staff=True)
    organization.members.add(user)  # a staff user sees the bots of their tenants only
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="sinch_whatsapp", codename__startswith="view_")
    )
    client.force_login(user)
    return client


def bot_form_data(bot: Bot | None = None, **overrides) -> dict:
    data = {
        "tenant": bot.tenant_id if bot else "",
        "name": bot.name if bot else "",
        "sinch_bot_id": bot.sinch_bot_id if bot else "",
        "region": bot.region if bot else "us",
        "base_url_override": bot.base_url_override if bot else "",
        "bearer_token": "",
        "callback_key": "",
        "previous_callback_key": "",
        "is_active": "on",
    }
    data.update(overrides)
    return data


# -- every page renders ------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_changelists_render(admin_client, bots, model):
    populate(bots, 4)
    response = admin_client.get(changelist(model))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 2


@pytest.mark.parametrize("model", MODELS)
def test_change_pages_render(admin_client, bots, model):
    populate(bots, 4)
    model_class = {
        "bot": Bot,
        "contact": Contact,
        "outboundmessage": OutboundMessage,
        "inboundmessage": InboundMessage,
        "callbackevent": CallbackEvent,
    }[model]
    for obj in model_class.objects.all():
        assert admin_client.get(change(model, obj.pk)).status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_view_only_staff_sees_every_page(view_only_client, bots, model):
    populate(bots, 2)
    assert view_only_client.get(changelist(model)).status_code == 200


def test_bot_add_page_renders(admin_client):
    response = admin_client.get(reverse("admin:sinch_whatsapp_bot_add"))
    assert response.status_code == 200
    assert "keep_current_key_as_previous" not in response.content.decode()


@pytest.mark.parametrize("model", ["contact", "outboundmessage", "inboundmessage", "callbackevent"])
def test_logs_cannot_be_added_by_hand(admin_client, model):
    assert admin_client.get(reverse(f"admin:sinch_whatsapp_{model}_add")).status_code == 403


def test_logs_cannot_be_edited_by_hand(admin_client, errored_message):
    url = change("outboundmessage", errored_message.pk)
    response = admin_client.post(url, {"state": "delivered"})
    assert response.status_code == 403
    errored_message.refresh_from_db()
    assert errored_message.state == MessageState.ERROR


# -- secrets never shown --------------------------------------------------------


def test_secrets_appear_in_no_admin_page(admin_client, view_only_client, bots, errored_message):
    bot = bots[0]
    populate(bots, 3)
    make_callback(bot, status_payload("sinch-0", "read"), processing_state="failed", processing_error="boom")
    stored = stored_columns(bot)
    assert all(stored) and TOKEN not in stored[0]
    forbidden = [TOKEN, CALLBACK_KEY, PREVIOUS_KEY, *stored]

    pages = {}
    for url in [
        reverse("admin:index"),
        reverse("admin:app_list", args=["sinch_whatsapp"]),
        changelist("bot"),
        change("bot", bot.pk),
        reverse("admin:sinch_whatsapp_bot_add"),
        reverse("admin:sinch_whatsapp_bot_history", args=[bot.pk]),
        reverse("admin:sinch_whatsapp_bot_delete", args=[bot.pk]),
        changelist("callbackevent"),
        changelist("outboundmessage"),
        changelist("outboundmessage") + "?state__exact=error",
        change("outboundmessage", errored_message.pk),
        changelist("inboundmessage"),
        changelist("contact"),
    ]:
        pages[url] = admin_client.get(url)
    for event in CallbackEvent.objects.all():
        pages[change("callbackevent", event.pk)] = admin_client.get(change("callbackevent", event.pk))
    for message in OutboundMessage.objects.all():
        pages[change("outboundmessage", message.pk)] = admin_client.get(change("outboundmessage", message.pk))
    # A view-only user sees every field read-only: the secrets as a redaction, nothing more.
    viewer_page = view_only_client.get(change("bot", bot.pk))
    assert "********" in viewer_page.content.decode()
    pages["view-only bot change"] = viewer_page
    # The add page after a validation error (no name) must not echo what was typed.
    invalid_add = admin_client.post(
        reverse("admin:sinch_whatsapp_bot_add"),
        bot_form_data(tenant=bot.tenant_id, sinch_bot_id="new-bot", bearer_token=TOKEN, callback_key=CALLBACK_KEY),
    )
    assert invalid_add.status_code == 200 and invalid_add.context["adminform"].form.errors
    pages["add after error"] = invalid_add
    # The change page after a validation error, with a new token typed.
    invalid_change = admin_client.post(
        change("bot", bot.pk), bot_form_data(bot, name="", bearer_token=TOKEN, previous_callback_key=PREVIOUS_KEY)
    )
    assert invalid_change.status_code == 200 and invalid_change.context["adminform"].form.errors
    assert "set (hidden)" in invalid_change.content.decode()
    pages["change after error"] = invalid_change

    for url, response in pages.items():
        assert response.status_code == 200, url
        html = response.content.decode()
        for secret in forbidden:
            assert secret not in html, f"a secret shows on {url}"


def test_change_page_shows_secret_inputs_empty_with_placeholder(admin_client, bot):
    response = admin_client.get(change("bot", bot.pk))
    form = response.context["adminform"].form
    for name in ("bearer_token", "callback_key"):
        html = str(form[name])
        assert 'type="password"' in html
        assert "value=" not in html
        assert "set (hidden)" in html
    assert "not set" in str(form["previous_callback_key"])
    page = response.content.decode()
    assert bot.callback_path in page
    assert "PUBLIC_BASE_URL" in page


def test_webhook_url_is_shown_when_public_base_url_is_set(admin_client, bot, settings):
    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "PUBLIC_BASE_URL": "https://hooks.example.com"}
    response = admin_client.get(change("bot", bot.pk))
    assert f"https://hooks.example.com{bot.callback_path}" in response.content.decode()


def test_adding_a_bot_stores_its_secrets_encrypted(admin_client, organization):
    response = admin_client.post(
        reverse("admin:sinch_whatsapp_bot_add"),
        bot_form_data(
            tenant=organization.pk, name="New", sinch_bot_id="new-bot", bearer_token=TOKEN, callback_key=CALLBACK_KEY
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    bot = Bot.objects.get(sinch_bot_id="new-bot")
    assert bot.bearer_token.reveal() == TOKEN
    assert bot.callback_key.reveal() == CALLBACK_KEY
    assert not bot.previous_callback_key
    token_column, key_column, _ = stored_columns(bot)
    assert TOKEN not in token_column and CALLBACK_KEY not in key_column


def test_adding_a_bot_requires_a_token(admin_client, organization):
    response = admin_client.post(
        reverse("admin:sinch_whatsapp_bot_add"),
        bot_form_data(tenant=organization.pk, name="New", sinch_bot_id="new-bot"),
    )
    assert response.status_code == 200
    assert "bearer_token" in response.context["adminform"].form.errors
    assert not Bot.objects.filter(sinch_bot_id="new-bot").exists()


def test_empty_secret_inputs_keep_the_stored_secrets(admin_client, bots):
    bot = bots[0]
    before = stored_columns(bot)
    response = admin_client.post(change("bot", bot.pk), bot_form_data(bot, name="Renamed"))
    assert response.status_code == 302
    bot.refresh_from_db()
    assert bot.name == "Renamed"
    assert bot.bearer_token.reveal() == TOKEN
    assert bot.callback_key.reveal() == CALLBACK_KEY
    assert bot.previous_callback_key.reveal() == PREVIOUS_KEY
    assert stored_columns(bot) == before  # not even re-encrypted


def test_typed_secrets_replace_the_stored_ones(admin_client, bot):
    response = admin_client.post(
        change("bot", bot.pk),
        bot_form_data(bot, bearer_token="new-token-42", callback_key="new-key-42", previous_callback_key="old-key"),
    )
    assert response.status_code == 302
    bot.refresh_from_db()
    assert bot.bearer_token.reveal() == "new-token-42"
    assert bot.callback_key.reveal() == "new-key-42"
    assert bot.previous_callback_key.reveal() == "old-key"


def test_key_rotation_keeps_the_current_key_as_previous(admin_client, bot):
    response = admin_client.post(
        change("bot", bot.pk), bot_form_data(bot, callback_key="rotated-key", keep_current_key_as_previous="on")
    )
    assert response.status_code == 302
    bot.refresh_from_db()
    assert bot.callback_key.reveal() == "rotated-key"
    assert bot.previous_callback_key.reveal() == CALLBACK_KEY
    assert bot.bearer_token.reveal() == TOKEN

    response = admin_client.post(change("bot", bot.pk), bot_form_data(bot, remove_previous_callback_key="on"))
    assert response.status_code == 302
    bot.refresh_from_db()
    assert not bot.previous_callback_key
    assert bot.callback_key.reveal() == "rotated-key"


def test_key_rotation_needs_a_new_key(admin_client, bot):
    response = admin_client.post(change("bot", bot.pk), bot_form_data(bot, keep_current_key_as_previous="on"))
    assert response.status_code == 200
    assert "keep_current_key_as_previous" in response.context["adminform"].form.errors
    bot.refresh_from_db()
    assert not bot.previous_callback_key


def test_signing_key_can_be_removed_but_not_removed_and_replaced(admin_client, bot):
    response = admin_client.post(
        change("bot", bot.pk), bot_form_data(bot, callback_key="other", remove_callback_key="on")
    )
    assert response.status_code == 200
    assert "remove_callback_key" in response.context["adminform"].form.errors

    response = admin_client.post(change("bot", bot.pk), bot_form_data(bot, remove_callback_key="on"))
    assert response.status_code == 302
    bot.refresh_from_db()
    assert not bot.callback_key
    assert bot.bearer_token.reveal() == TOKEN


# -- verify credentials ------------------------------------------------------------


class FakeClient:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str, suffix: str, **kwargs):
        self.calls.append((method, suffix))
        if self.error is not None:
            raise self.error
        return object()


def run_verify(admin_client, monkeypatch, bot: Bot, fake: FakeClient):
    from django_sinch_whatsapp.transports.whatsapp import WhatsAppTransport

    monkeypatch.setattr("django_sinch_whatsapp.admin.bots.transport_for_bot", lambda b: WhatsAppTransport(fake))
    return admin_client.post(
        changelist("bot"), {"action": "verify_credentials", "_selected_action": [str(bot.pk)]}, follow=True
    )


def test_verify_credentials_shows_sinchs_401_with_the_region_hint(admin_client, monkeypatch, bot):
    fake = FakeClient(
        SinchUnauthorized(
            "Unauthorized", "Invalid token", status_code=401, method="GET", path="/whatsapp/v1/x/provision/provider"
        )
    )
    response = run_verify(admin_client, monkeypatch, bot, fake)
    assert fake.calls == [("GET", "provision/provider")]
    [message] = shown_messages(response)
    for part in ("401", "Unauthorized", "Invalid token", REGION_HINT, "bearer token", "GET /whatsapp/v1/x/provision"):
        assert part in message
    assert bot.name in message
    html = response.content.decode()
    assert "Invalid token" in html
    for secret in (TOKEN, CALLBACK_KEY, *filter(None, stored_columns(bot))):
        assert secret not in message and secret not in html
    assert [m.level_tag for m in response.context["messages"]] == ["error"]


def test_verify_credentials_reports_success(admin_client, monkeypatch, bot):
    response = run_verify(admin_client, monkeypatch, bot, FakeClient())
    [message] = shown_messages(response)
    assert "credentials accepted by Sinch" in message


def test_verify_credentials_reports_an_undecryptable_token(admin_client, monkeypatch, bot):
    def broken(b):
        raise SecretDecryptionError("A stored secret cannot be decrypted")

    monkeypatch.setattr("django_sinch_whatsapp.admin.bots.transport_for_bot", broken)
    response = admin_client.post(
        changelist("bot"), {"action": "verify_credentials", "_selected_action": [str(bot.pk)]}, follow=True
    )
    [message] = shown_messages(response)
    assert "cannot be decrypted" in message


def test_verify_credentials_is_not_offered_to_view_only_staff(view_only_client, bot):
    response = view_only_client.get(changelist("bot"))
    assert "verify_credentials" not in response.content.decode()


# -- outbound messages, errors and history ---------------------------------------------


def test_errored_message_shows_sinchs_error_and_the_hint(admin_client, errored_message):
    response = admin_client.get(change("outboundmessage", errored_message.pk))
    html = response.content.decode()
    assert "HTTP 401" in html
    assert "Unauthorized" in html
    assert "Invalid token" in html
    assert "region (US or EU)" in html
    assert "sinch-error" in html


def test_message_without_error_has_no_error_block(admin_client, bot):
    message = OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={"type": "text", "text": "hi"}
    )
    html = admin_client.get(change("outboundmessage", message.pk)).content.decode()
    assert "sinch-error" not in html


def test_error_list_filters_by_state_and_shows_error_columns(admin_client, bots, errored_message):
    populate(bots, 6)
    response = admin_client.get(changelist("outboundmessage") + "?state__exact=error")
    results = list(response.context["cl"].result_list)
    assert results and all(m.state == MessageState.ERROR for m in results)
    html = response.content.decode()
    assert "Unauthorized: Invalid token" in html
    assert "401" in html


@pytest.mark.parametrize(
    ("query", "expected"), [("message_type__exact=text", 4), ("bot__id__exact={bot}", 2), ("q=46732000001", 1)]
)
def test_outbound_list_filters(admin_client, bots, query, expected):
    populate(bots, 4)
    response = admin_client.get(changelist("outboundmessage") + "?" + query.format(bot=bots[0].pk))
    assert len(response.context["cl"].result_list) == expected


def test_outbound_list_finds_a_message_by_its_id(admin_client, errored_message, bots):
    populate(bots, 3)
    response = admin_client.get(changelist("outboundmessage") + f"?q={errored_message.pk}")
    assert [m.pk for m in response.context["cl"].result_list] == [errored_message.pk]


def test_status_history_is_shown_in_arrival_order(admin_client, bot):
    message = OutboundMessage.objects.create(
        bot=bot,
        recipient="46732001122",
        message_type="text",
        payload={"type": "text", "text": "hi"},
        sinch_message_id="abc",
        state=MessageState.READ,
    )
    start = timezone.now()
    # Arrival order differs from both the alphabet and the forward order of states.
    for offset, state in enumerate(["queued", "read", "delivered"]):
        StatusEvent.objects.create(
            bot=bot, message=message, sinch_message_id="abc", state=state, received_at=start + timedelta(seconds=offset)
        )
    response = admin_client.get(change("outboundmessage", message.pk))
    [inline] = response.context["inline_admin_formsets"]
    shown = [form.original.state for form in inline]
    assert shown == ["queued", "read", "delivered"]


def test_contact_window_is_shown_and_filtered(admin_client, bot):
    now = timezone.now()
    recent = Contact.objects.create(bot=bot, number="+46700000001", last_inbound_at=now - timedelta(hours=2))
    old = Contact.objects.create(bot=bot, number="+46700000002", last_inbound_at=now - timedelta(hours=30))
    never = Contact.objects.create(bot=bot, number="+46700000003")
    assert "open until" in admin_client.get(change("contact", recent.pk)).content.decode()
    assert "closed since" in admin_client.get(change("contact", old.pk)).content.decode()
    assert "no inbound message yet" in admin_client.get(change("contact", never.pk)).content.decode()
    open_list = admin_client.get(changelist("contact") + "?window=open").context["cl"].result_list
    closed_list = admin_client.get(changelist("contact") + "?window=closed").context["cl"].result_list
    assert [c.pk for c in open_list] == [recent.pk]
    assert {c.pk for c in closed_list} == {old.pk, never.pk}


def test_contact_links_to_its_messages(admin_client, bots):
    populate(bots, 2)
    contact = Contact.objects.first()
    html = admin_client.get(change("contact", contact.pk)).content.decode()
    url = changelist("inboundmessage") + f"?contact__id__exact={contact.pk}"
    assert url in html
    response = admin_client.get(url)
    assert [m.contact_id for m in response.context["cl"].result_list] == [contact.pk]


# -- callbacks ------------------------------------------------------------------


def test_callback_page_shows_the_raw_body_and_headers(admin_client, bot):
    event = make_callback(
        bot,
        status_payload("sinch-raw", "sent"),
        headers={"Content-Type": "application/json", "User-Agent": "Sinch"},
        processing_state="failed",
        processing_error="Traceback...\nValueError: boom",
    )
    html = admin_client.get(change("callbackevent", event.pk)).content.decode()
    assert "sinch-raw" in html
    assert "&quot;statuses&quot;" in html  # the body, escaped
    assert "User-Agent" in html
    assert "ValueError: boom" in html
    listing = admin_client.get(changelist("callbackevent")).content.decode()
    assert "ValueError: boom" in listing


def test_reprocess_applies_a_failed_callback(admin_client, bot):
    message = OutboundMessage.objects.create(
        bot=bot,
        recipient="46732001122",
        message_type="text",
        payload={"type": "text", "text": "hi"},
        sinch_message_id="sinch-late",
        state=MessageState.QUEUED,
    )
    event = make_callback(
        bot, status_payload("sinch-late", "delivered"), processing_state="failed", processing_error="boom", attempts=1
    )
    response = admin_client.post(
        changelist("callbackevent"), {"action": "reprocess", "_selected_action": [str(event.pk)]}, follow=True
    )
    assert response.status_code == 200
    [shown] = shown_messages(response)
    assert "Reprocessed 1 callback(s)" in shown and "processed" in shown
    event.refresh_from_db()
    assert event.processing_state == "processed"
    assert event.processing_error == ""
    assert event.attempts == 2
    message.refresh_from_db()
    assert message.state == MessageState.DELIVERED
    assert StatusEvent.objects.get(message=message).callback_id == event.pk
    # The change page now links the resulting history.
    html = admin_client.get(change("callbackevent", event.pk)).content.decode()
    assert change("outboundmessage", message.pk) in html


def test_reprocess_reports_a_failure_again(admin_client, bot, monkeypatch):
    event = make_callback(bot, status_payload("sinch-x", "delivered"), processing_state="failed")

    def explode(*args, **kwargs):
        raise RuntimeError("still broken")

    monkeypatch.setattr("django_sinch_whatsapp.callbacks.processing.apply_statuses", explode)
    response = admin_client.post(
        changelist("callbackevent"), {"action": "reprocess", "_selected_action": [str(event.pk)]}, follow=True
    )
    [shown] = shown_messages(response)
    assert "failed again" in shown and "still broken" in shown
    event.refresh_from_db()
    assert event.processing_state == "failed"
    assert "RuntimeError: still broken" in event.processing_error


def test_reprocess_is_not_offered_to_view_only_staff(view_only_client, bot):
    event = make_callback(bot, status_payload("sinch-y", "delivered"), processing_state="failed")
    assert "reprocess" not in view_only_client.get(changelist("callbackevent")).content.decode()
    view_only_client.post(changelist("callbackevent"), {"action": "reprocess", "_selected_action": [str(event.pk)]})
    event.refresh_from_db()
    assert event.processing_state == "failed"


# -- constant query counts -----------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


CHANGELISTS = [
    *MODELS,
    "outboundmessage?state__exact=error",
    "contact?window=open",
    "callbackevent?processing_state__exact=processed",
]


@pytest.mark.parametrize("page", CHANGELISTS)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, make_bot, page):
    def new_bots(first: int, count: int) -> list[Bot]:
        # A tenant per bot, so a bot list that did not join tenants would query each one.
        return [
            make_bot(tenant=Organization.objects.create(name=f"Tenant {i}"), name=f"Bot {i}", sinch_bot_id=f"bot-{i}")
            for i in range(first, first + count)
        ]

    model, _, query = page.partition("?")
    url = changelist(model) + (f"?{query}" if query else "")
    bots = new_bots(0, 2)
    populate(bots, 2)
    admin_client.get(url)  # warm caches (content types, sessions) outside the measurement
    small = count_queries(admin_client, url)
    populate([*bots, *new_bots(2, 18)], 18, start=2)
    large = count_queries(admin_client, url)
    print(f"\nqueries {page}: {small} with 2 rows, {large} with 20 rows")
    assert small == large


@pytest.mark.parametrize("model", ["outboundmessage", "callbackevent"])
def test_change_page_query_count_does_not_grow_with_history(admin_client, bot, model):
    message = OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={}, sinch_message_id="many", state="read"
    )
    callback = make_callback(bot, status_payload("many", "read"), processing_state="processed")
    obj = message if model == "outboundmessage" else callback
    url = change(model, obj.pk)

    def add_history(states: list[str]) -> None:
        for state in states:
            # A callback per report, so the inline's callback links would each cost a query without the join.
            own = make_callback(bot, status_payload("many", state), processing_state="processed")
            StatusEvent.objects.create(
                bot=bot,
                message=message,
                sinch_message_id="many",
                state=state,
                callback=callback if model == "callbackevent" else own,
            )

    add_history(["queued", "sent"])
    admin_client.get(url)
    small = count_queries(admin_client, url)
    add_history(["dispatched", "delivered", "read", "deleted", "failed", "extra1", "extra2", "extra3"])
    large = count_queries(admin_client, url)
    print(f"\nqueries {model} change page: {small} with 2 reports, {large} with 10")
    assert small == large


def test_admin_refuses_a_foreign_override_host_and_a_silent_move(admin_client, bot):
    url = f"/admin/sinch_whatsapp/bot/{bot.pk}/change/"
    data = {
        "tenant": bot.tenant_id,
        "name": bot.name,
        "sinch_bot_id": bot.sinch_bot_id,
        "region": "us",
        "base_url_override": "https://attacker.example/",
        "bearer_token": "",
        "callback_key": "",
        "previous_callback_key": "",
        "is_active": "on",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200 and "not an allowed override host" in response.content.decode()
    data["base_url_override"] = "http://127.0.0.1:9/us1"
    response = admin_client.post(url, data)
    assert response.status_code == 200 and "Type the bearer token again" in response.content.decode()
    bot.refresh_from_db()
    assert bot.base_url_override == ""
