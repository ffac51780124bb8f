"""The inbox (a contact's conversation) and the dashboard: what they show, and queries that do not grow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_sinch_whatsapp.models import (
    CallbackEvent,
    CallbackRefusalStats,
    Contact,
    InboundMessage,
    MessageState,
    OutboundMessage,
)

pytestmark = pytest.mark.django_db


def inbox_url(contact) -> str:
    return reverse("admin:sinch_whatsapp_contact_inbox", args=[contact.pk])


def count_queries(client, url: str) -> int:
    client.get(url)  # warm the session and content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def contact(bot):
    return Contact.objects.create(bot=bot, number="+46732001122", profile_name="Ada", last_inbound_at=timezone.now())


def inbound(contact, sinch_id, message_type, content, text="", at=None, **extra):
    return InboundMessage.objects.create(
        bot=contact.bot,
        contact=contact,
        sinch_message_id=sinch_id,
        from_number="46732001122",
        from_e164="+46732001122",
        message_type=message_type,
        content=content,
        text=text,
        received_at=at or timezone.now(),
        **extra,
    )


def test_the_conversation_is_in_order_and_rendered_by_type(admin_client, contact):
    now = timezone.now()
    out = OutboundMessage.objects.create(
        bot=contact.bot,
        contact=contact,
        recipient="46732001122",
        message_type="template",
        payload={"type": "template", "template_name": "order_update", "language": "en", "body_params": ["#12"]},
        sinch_message_id="out-1",
        state=MessageState.READ,
    )
    OutboundMessage.objects.filter(pk=out.pk).update(created_at=now - timedelta(minutes=10))
    inbound(
        contact,
        "in-1",
        "text",
        {"type": "text", "body": "Thanks <b>!</b>"},
        at=now - timedelta(minutes=9),
        replying_to_message_id="out-1",
    )
    inbound(
        contact,
        "in-2",
        "image",
        {"type": "image", "url": "https://media.example/cat.jpg", "caption": "my cat"},
        at=now - timedelta(minutes=8),
    )
    inbound(
        contact,
        "in-3",
        "location",
        {"type": "location", "latitude": 59.33, "longitude": 18.06, "name": "Office"},
        at=now - timedelta(minutes=7),
    )
    inbound(
        contact,
        "in-4",
        "contacts",
        {"type": "contacts", "contacts": [{"name": {"formatted_name": "Bo Ek"}, "phones": [{"phone": "+4670"}]}]},
        at=now - timedelta(minutes=6),
    )
    inbound(
        contact,
        "in-5",
        "interactive",
        {"type": "interactive", "message": {"type": "list", "id": "r2", "title": "Tuesday"}},
        at=now - timedelta(minutes=5),
    )
    inbound(
        contact,
        "in-6",
        "button",
        {"type": "button", "text": "Yes please", "payload": "yes"},
        at=now - timedelta(minutes=4),
    )
    response = admin_client.get(inbox_url(contact))
    html = response.content.decode()
    entries = response.context["entries"]
    assert [e.direction for e in entries] == ["out", "in", "in", "in", "in", "in", "in"]
    assert "order_update" in html and 'data-state="read"' in html
    assert "Thanks &lt;b&gt;!&lt;/b&gt;" in html  # escaped, never markup
    assert '<blockquote class="sinch-reply-to">' in html and entries[1].quoted and "order_update" in entries[1].quoted
    assert '<img class="sinch-thumb" src="https://media.example/cat.jpg"' in html and "my cat" in html
    assert "59.33, 18.06" in html and "Office" in html
    assert "Bo Ek" in html and "+4670" in html
    assert 'List choice "Tuesday"' in html and 'Button "Yes please"' in html
    assert "window is open until" in html and 'id="reply-form"' in html


def test_the_inbox_shows_the_last_page_only(admin_client, contact):
    now = timezone.now()
    InboundMessage.objects.bulk_create(
        InboundMessage(
            bot=contact.bot,
            contact=contact,
            sinch_message_id=f"m{i}",
            from_number="1",
            message_type="text",
            content={"type": "text", "body": f"message {i}"},
            received_at=now - timedelta(seconds=100 - i),
        )
        for i in range(60)
    )
    entries = admin_client.get(inbox_url(contact)).context["entries"]
    assert len(entries) == 50 and entries[-1].message.sinch_message_id == "m59"
    assert entries[0].message.sinch_message_id == "m10"


def fill(contact, first: int, count: int) -> None:
    """``count`` inbound and outbound messages each, inbound ones replying to outbound ones."""
    now = timezone.now()
    bot = contact.bot
    OutboundMessage.objects.bulk_create(
        OutboundMessage(
            bot=bot,
            contact=contact,
            recipient="46732001122",
            message_type="text",
            payload={"type": "text", "text": f"out {i}"},
            sinch_message_id=f"out-{i}",
            state=MessageState.DELIVERED,
        )
        for i in range(first, first + count)
    )
    InboundMessage.objects.bulk_create(
        InboundMessage(
            bot=bot,
            contact=contact,
            sinch_message_id=f"in-{i}",
            from_number="1",
            message_type="text",
            content={"type": "text", "body": f"in {i}"},
            replying_to_message_id=f"out-{i}",
            received_at=now,
        )
        for i in range(first, first + count)
    )


def test_the_inbox_makes_the_same_queries_at_10_and_1000_messages(admin_client, contact):
    fill(contact, 0, 10)
    small = count_queries(admin_client, inbox_url(contact))
    fill(contact, 10, 990)
    large = count_queries(admin_client, inbox_url(contact))
    print(f"\ninbox queries: {small} at 10 messages each way, {large} at 1000")
    assert small == large


# -- dashboard ------------------------------------------------------------------------------


def dashboard_url(bot=None) -> str:
    if bot is None:
        return reverse("admin:sinch_whatsapp_bot_overall_dashboard")
    return reverse("admin:sinch_whatsapp_bot_dashboard", args=[bot.pk])


def outbound(bot, state, count, **fields):
    OutboundMessage.objects.bulk_create(
        OutboundMessage(bot=bot, recipient="46732001122", message_type="text", payload={}, state=state, **fields)
        for _ in range(count)
    )


def test_the_dashboard_counts_states_rates_failures_and_callbacks(admin_client, make_bot):
    bot = make_bot()
    other = make_bot(name="Sales", sinch_bot_id="sales")
    outbound(bot, MessageState.READ, 3)
    outbound(bot, MessageState.DELIVERED, 1)
    outbound(bot, MessageState.SENT, 1)
    outbound(bot, MessageState.ERROR, 2, error_status_code=401, error_message="Unauthorized")
    outbound(other, MessageState.FAILED, 1, state_details="131026 receiver incapable")
    old = OutboundMessage.objects.create(bot=bot, recipient="1", message_type="text", payload={}, state="read")
    OutboundMessage.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    for state in ("processed", "processed", "failed"):
        CallbackEvent.objects.create(bot=bot, body=b"{}", payload={}, signature_verdict="valid", processing_state=state)
    CallbackRefusalStats.objects.create(bot=bot, count=4, last_reason="bad signature")

    figures = admin_client.get(dashboard_url(bot)).context["figures"]
    assert (figures.total, figures.taken, figures.delivered, figures.read) == (7, 5, 4, 3)
    assert (figures.delivery_rate, figures.read_rate) == (80.0, 75.0)
    assert admin_client.get(dashboard_url(bot) + "?days=90").context["figures"].total == 8

    overall = admin_client.get(dashboard_url())
    html = overall.content.decode()
    assert overall.context["figures"].total == 8
    [unauthorized, failed] = overall.context["failures"]
    assert (unauthorized["error_status_code"], unauthorized["n"]) == (401, 2)
    assert failed["state_details"] == "131026 receiver incapable"
    assert overall.context["callbacks"]["received"] == 3 and overall.context["callbacks"]["refused"] == 4
    assert [(row["bot__name"], row["total"]) for row in overall.context["bots"]] == [("Sales", 1), ("Support", 7)]
    assert '<svg class="sinch-chart"' in html and "<script" not in html.split('id="content-main"')[1]
    assert 'id="total-messages">8<' in html and 'id="callbacks-refused">4' in html


def test_the_dashboard_of_a_tenant_counts_only_its_bots(
    client, django_user_model, make_bot, organization, other_organization
):
    from django.contrib.auth.models import Permission

    mine = make_bot()
    outbound(mine, MessageState.READ, 2)
    outbound(make_bot(tenant=other_organization, sinch_bot_id="globex"), MessageState.READ, 5)
    user = django_user_model.objects.create_user("alice", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_bot"))
    organization.members.add(user)
    client.force_login(user)
    response = client.get(dashboard_url())
    assert response.context["figures"].total == 2
    assert [row["bot__name"] for row in response.context["bots"]] == ["Support"]


@pytest.mark.parametrize("per_bot", [False, True])
def test_the_dashboard_makes_the_same_queries_at_10_and_1000_rows(admin_client, make_bot, per_bot):
    bot = make_bot()
    url = dashboard_url(bot if per_bot else None)

    def populate(count: int) -> None:
        for state in (MessageState.READ, MessageState.FAILED, MessageState.ERROR):
            outbound(bot, state, count, error_message=f"e{count}")
        CallbackEvent.objects.bulk_create(
            CallbackEvent(bot=bot, body=b"{}", payload={}, signature_verdict="valid", processing_state="processed")
            for _ in range(count)
        )

    populate(10)
    small = count_queries(admin_client, url)
    populate(990)
    large = count_queries(admin_client, url)
    print(f"\ndashboard queries: {small} at 10 rows, {large} at 1000")
    assert small == large


def test_the_bot_pages_link_to_the_dashboards(admin_client, bot):
    listing = admin_client.get(reverse("admin:sinch_whatsapp_bot_changelist")).content.decode()
    assert dashboard_url() in listing
    change = admin_client.get(reverse("admin:sinch_whatsapp_bot_change", args=[bot.pk])).content.decode()
    assert dashboard_url(bot) in change


def test_the_dashboard_reports_unknown_messages_without_a_sinch_id(admin_client, make_bot):
    """Issue 8: rows only a delivery report can settle are counted, with the oldest one's age."""
    bot = make_bot()
    other = make_bot(name="Sales", sinch_bot_id="sales")
    outbound(bot, MessageState.UNKNOWN, 2)
    outbound(bot, MessageState.UNKNOWN, 1, sinch_message_id="has-an-id")  # reconciliation can ask about it
    outbound(other, MessageState.UNKNOWN, 3)
    oldest = bot.outbound_messages.filter(state=MessageState.UNKNOWN, sinch_message_id__isnull=True).first()
    OutboundMessage.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - timedelta(days=3))

    per_bot = admin_client.get(dashboard_url(bot))
    assert per_bot.context["unsettleable"].count == 2
    assert "2 messages in state <em>unknown</em> without a Sinch id" in per_bot.content.decode()
    overall = admin_client.get(dashboard_url()).context["unsettleable"]
    assert overall.count == 5 and overall.oldest_created_at < timezone.now() - timedelta(days=2)
