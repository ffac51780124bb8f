"""The admin's rough edges a new user hit (issue 12, item 4), each checked on the page people see."""

from __future__ import annotations

from datetime import UTC

import pytest
from django.urls import reverse
from django.utils import timezone

from django_sinch_whatsapp.admin.callbacks import callback_contents
from django_sinch_whatsapp.models import (
    CallbackEvent,
    Contact,
    InboundMessage,
    MediaProvider,
    OutboundMessage,
    StatusEvent,
    Sticker,
    Stickerpack,
)

from .webhook_helpers import inbound_text_payload, status_payload

pytestmark = pytest.mark.django_db


def changelist(model: str) -> str:
    return reverse(f"admin:sinch_whatsapp_{model}_changelist")


def callback(bot, payload, **fields):
    return CallbackEvent.objects.create(
        bot=bot, body=b"{}", payload=payload, signature_verdict="valid", processing_state="processed", **fields
    )


def test_callbacks_say_what_they_held_and_are_found_by_nonce_and_message_id(admin_client, bot):
    statuses = callback(bot, status_payload("sinch-out-1", "delivered"), nonce="nonce-abc")
    message = OutboundMessage.objects.create(
        bot=bot, recipient="1", message_type="text", payload={}, sinch_message_id="sinch-out-1"
    )
    StatusEvent.objects.create(
        bot=bot, message=message, sinch_message_id="sinch-out-1", state="delivered", callback=statuses
    )
    inbound = callback(bot, inbound_text_payload("sinch-in-1"), nonce="nonce-def")
    InboundMessage.objects.create(
        bot=bot, sinch_message_id="sinch-in-1", from_number="1", message_type="text", callback=inbound
    )
    error = {"type": "whatsapp", "notifications": [{"from": "1", "message": {"type": "error", "details": "x"}}]}
    callback(bot, error)

    assert callback_contents(statuses.payload) == "1 status"
    assert callback_contents(inbound.payload) == "1 inbound"
    assert callback_contents(error) == "1 error"
    assert callback_contents({"statuses": [{}, {}], "notifications": [{"message": {"type": "text"}}]}) == (
        "2 statuses, 1 inbound"
    )
    page = admin_client.get(changelist("callbackevent"))
    html = page.content.decode()
    assert 'class="column-held' in html and "1 status" in html and "1 inbound" in html and "1 error" in html
    for query, expected in [("nonce-abc", statuses), ("sinch-out-1", statuses), ("sinch-in-1", inbound)]:
        found = admin_client.get(changelist("callbackevent"), {"q": query}).context["cl"].result_list
        assert [c.pk for c in found] == [expected.pk], query
    assert not admin_client.get(changelist("callbackevent"), {"q": "nonce-ab"}).context["cl"].result_list


def test_the_contact_page_is_a_view_without_save(admin_client, bot):
    contact = Contact.objects.create(bot=bot, number="+46732001122")
    page = admin_client.get(reverse("admin:sinch_whatsapp_contact_change", args=[contact.pk])).content.decode()
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert reverse("admin:sinch_whatsapp_contact_inbox", args=[contact.pk]) in page
    # The actions that call Sinch are still offered on the list.
    listing = admin_client.get(changelist("contact")).content.decode()
    assert 'value="opt_in"' in listing and 'value="check_capability"' in listing


@pytest.mark.parametrize("model", ["contact", "outboundmessage", "inboundmessage", "callbackevent"])
def test_messages_and_contacts_drill_down_by_date(admin_client, bot, model):
    Contact.objects.create(bot=bot, number="+46732001122", last_inbound_at=timezone.now())
    response = admin_client.get(changelist(model))
    assert response.context["cl"].date_hierarchy
    assert 'class="toplinks"' in response.content.decode()


def test_media_providers_stickerpacks_and_stickers_are_registered_read_only(admin_client, bot):
    provider = MediaProvider.objects.create(bot=bot, name="cdn", kind="basic", username="media")
    pack = Stickerpack.objects.create(bot=bot, sinch_id="sp-1", name="Cats", publisher="Us")
    sticker = Sticker.objects.create(stickerpack=pack, index="0", url="https://media.example/cat.webp")
    for model, obj, text in [
        ("mediaprovider", provider, "cdn"),
        ("stickerpack", pack, "Cats"),
        ("sticker", sticker, "cat.webp"),
    ]:
        assert text in admin_client.get(changelist(model)).content.decode()
        change = admin_client.get(reverse(f"admin:sinch_whatsapp_{model}_change", args=[obj.pk])).content.decode()
        assert 'name="_save"' not in change
        assert admin_client.get(reverse(f"admin:sinch_whatsapp_{model}_delete", args=[obj.pk])).status_code == 403
    assert (
        "cat.webp"
        in admin_client.get(reverse("admin:sinch_whatsapp_stickerpack_change", args=[pack.pk])).content.decode()
    )


def test_timestamps_are_shown_to_the_second_in_lists_pages_and_history(admin_client, bot):
    from datetime import datetime, timedelta

    at = datetime(2026, 3, 4, 3, 45, 7, tzinfo=UTC)
    message = OutboundMessage.objects.create(
        bot=bot, recipient="46732001122", message_type="text", payload={}, sinch_message_id="abc", state="read"
    )
    OutboundMessage.objects.filter(pk=message.pk).update(created_at=at)
    for offset, state in enumerate(["queued", "sent", "delivered", "read"]):
        StatusEvent.objects.create(
            bot=bot, message=message, sinch_message_id="abc", state=state, received_at=at + timedelta(seconds=offset)
        )
    listing = admin_client.get(changelist("outboundmessage")).content.decode()
    assert "2026-03-04 03:45:07 UTC" in listing and "a.m." not in listing
    page = admin_client.get(reverse("admin:sinch_whatsapp_outboundmessage_change", args=[message.pk])).content.decode()
    history = page.split('class="js-inline-admin-formset inline-group sinch-history"')[1]
    for second in ("07", "08", "09", "10"):
        assert f"2026-03-04 03:45:{second} UTC" in history
    assert "a.m." not in page
    # No caption repeating each row's name ("abc: queued") above its fields.
    assert "abc: queued" not in history and history.count('<tr class="form-row">') == 4


def test_a_sorted_timestamp_column_sorts_by_the_field(admin_client, bot):
    first = OutboundMessage.objects.create(bot=bot, recipient="1", message_type="text", payload={})
    second = OutboundMessage.objects.create(bot=bot, recipient="2", message_type="text", payload={})
    response = admin_client.get(changelist("outboundmessage"), {"o": "1"})
    assert [m.pk for m in response.context["cl"].result_list] == [first.pk, second.pk]


def test_the_bot_list_says_where_each_bot_really_sends(admin_client, make_bot):
    make_bot()
    make_bot(name="Sandboxed", sinch_bot_id="sandboxed", base_url_override="http://127.0.0.1:8765/us1")
    html = admin_client.get(changelist("bot")).content.decode()
    assert "US (us1.whatsapp.api.sinch.com)" in html
    assert "127.0.0.1:8765 (override; region US)" in html


def test_the_base_url_override_input_is_wide_enough_for_a_whole_url(admin_client, make_bot):
    bot = make_bot(base_url_override="http://sinch-sandbox.internal.example.com:8765/us1")
    page = admin_client.get(reverse("admin:sinch_whatsapp_bot_change", args=[bot.pk])).content.decode()
    [tag] = [part for part in page.split("<input") if 'name="base_url_override"' in part]
    assert 'size="80"' in tag and "width: 40em" in tag


def test_contact_labels_read_as_a_person_writes_them(admin_client, bot):
    contact = Contact.objects.create(bot=bot, number="+46732001122")
    listing = admin_client.get(changelist("contact")).content.decode()
    page = admin_client.get(reverse("admin:sinch_whatsapp_contact_change", args=[contact.pk])).content.decode()
    for html in (listing, page):
        assert "Opt in state" not in html and "Opt-in" in html
    assert "Last message from the contact" in page and "WhatsApp checked at" in page


def test_the_console_stylesheet_is_served_from_the_package(admin_client, bot):
    html = admin_client.get(changelist("outboundmessage")).content.decode()
    assert "/static/django_sinch_whatsapp/admin.css" in html
    from django.contrib.staticfiles import finders

    assert finders.find("django_sinch_whatsapp/admin.css")
