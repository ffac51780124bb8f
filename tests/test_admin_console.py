"""The console's send, reply and retry pages, against the sandbox over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from django_sinch_whatsapp.models import Contact, InboundMessage, MessageState, OutboundMessage
from django_sinch_whatsapp.services.retry import retry_key

from .conftest import TOKEN

pytestmark = pytest.mark.django_db(transaction=True)


def send_url(bot) -> str:
    return reverse("admin:sinch_whatsapp_bot_send", args=[bot.pk])


def template_post(**overrides):
    data = {"numbers": "+46 73 200 11 22", "kind": "template", "template": "order_update", "language": "en"}
    data["body_params"] = "Ada\n#1234"
    data.update(overrides)
    return data


def test_send_a_template_from_the_bot_page(admin_client, sandbox_bot, fresh_sandbox):
    page = admin_client.get(send_url(sandbox_bot))
    assert page.status_code == 200 and b'name="numbers"' in page.content
    response = admin_client.post(send_url(sandbox_bot), template_post(), follow=True)
    [message] = OutboundMessage.objects.all()
    assert message.recipient == "46732001122" and message.message_type == "template"
    assert message.payload["body_params"] == ["Ada", "#1234"] and message.sinch_message_id
    assert response.redirect_chain[-1][0] == reverse("admin:sinch_whatsapp_contact_inbox", args=[message.contact_id])
    assert "Sinch accepted 1 of 1 message(s)." in [str(m) for m in response.context["messages"]]
    assert fresh_sandbox.count("POST", "/messages") == 1


def test_several_numbers_land_on_the_list_of_the_send(admin_client, sandbox_bot, fresh_sandbox):
    response = admin_client.post(send_url(sandbox_bot), template_post(numbers="+46732001122, +46732001133"))
    assert response.status_code == 302
    send_id = OutboundMessage.objects.values_list("send_id", flat=True).distinct().get()
    assert response["Location"].endswith(f"?send_id={send_id}")
    assert admin_client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"language": "xx"}, "language", "message.language"),
        ({"body_params": "x" * 1100}, "body_params", "1024"),
        ({"kind": "text", "text": "   "}, "text", "needs text"),
        ({"kind": "image", "media_url": ""}, "media_url", "URL"),
        ({"template": ""}, "template", "template's name"),
    ],
)
def test_a_builder_error_is_shown_on_its_field(admin_client, sandbox_bot, fresh_sandbox, overrides, field, words):
    response = admin_client.post(send_url(sandbox_bot), template_post(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field] and words in " ".join(errors[field])
    assert not OutboundMessage.objects.exists() and fresh_sandbox.count("POST", "/messages") == 0


def test_sinchs_401_is_shown_on_the_form(admin_client, make_bot, fresh_sandbox):
    bot = make_bot(base_url_override=fresh_sandbox.region_url("us"), bearer_token="wrong-token-123")
    fresh_sandbox.register_bot(bot.sinch_bot_id, TOKEN, region="us")
    response = admin_client.post(send_url(bot), template_post())
    assert response.status_code == 200
    [text] = response.context["form"].non_field_errors()
    assert "Sinch answered HTTP 401" in text and "region" in text
    assert "wrong-token-123" not in response.content.decode()
    assert OutboundMessage.objects.get().state == MessageState.ERROR


def test_an_inactive_bot_is_refused(admin_client, make_bot, fresh_sandbox):
    bot = make_bot(base_url_override=fresh_sandbox.region_url("us"), is_active=False)
    assert b"inactive" in admin_client.get(send_url(bot)).content
    response = admin_client.post(send_url(bot), template_post())
    assert "inactive" in " ".join(response.context["form"].non_field_errors())
    assert not OutboundMessage.objects.exists() and fresh_sandbox.count("POST", "/messages") == 0


def test_sending_needs_the_add_outbound_message_permission(client, django_user_model, sandbox_bot, organization):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_bot"))
    organization.members.add(user)
    client.force_login(user)
    assert client.get(send_url(sandbox_bot)).status_code == 403
    assert client.post(send_url(sandbox_bot), template_post()).status_code == 403
    assert not OutboundMessage.objects.exists()


# -- reply ---------------------------------------------------------------------------------


def inbox_url(contact) -> str:
    return reverse("admin:sinch_whatsapp_contact_inbox", args=[contact.pk])


def test_reply_inside_the_window_is_a_text(admin_client, sandbox_bot, fresh_sandbox):
    contact = Contact.objects.create(bot=sandbox_bot, number="+46732001122", last_inbound_at=timezone.now())
    page = admin_client.get(inbox_url(contact))
    assert "window is open until" in page.context["window"]
    assert page.context["form"]["kind"].value() == "text"
    response = admin_client.post(inbox_url(contact), {"kind": "text", "text": "On its way!"})
    assert response.status_code == 302 and response["Location"] == inbox_url(contact)
    message = OutboundMessage.objects.get()
    assert message.payload == {"type": "text", "text": "On its way!"} and message.contact == contact
    assert message.sinch_message_id


def test_reply_outside_the_window_offers_only_a_template_and_says_why(admin_client, sandbox_bot, fresh_sandbox):
    contact = Contact.objects.create(
        bot=sandbox_bot, number="+46732001122", last_inbound_at=timezone.now() - timedelta(hours=30)
    )
    page = admin_client.get(inbox_url(contact))
    assert page.context["window"].startswith("Template only: the 24-hour window closed at")
    assert [value for value, _ in page.context["form"].fields["kind"].choices] == ["template"]
    refused = admin_client.post(inbox_url(contact), {"kind": "text", "text": "hi"})
    assert "kind" in refused.context["form"].errors
    assert not OutboundMessage.objects.exists()
    sent = admin_client.post(inbox_url(contact), {"kind": "template", "template": "welcome", "language": "en"})
    assert sent.status_code == 302 and OutboundMessage.objects.get().message_type == "template"


def test_reply_to_an_inbound_message(admin_client, sandbox_bot, fresh_sandbox):
    contact = Contact.objects.create(bot=sandbox_bot, number="+46732001122", last_inbound_at=timezone.now())
    inbound = InboundMessage.objects.create(
        bot=sandbox_bot,
        contact=contact,
        sinch_message_id="in-1",
        from_number="46732001122",
        message_type="text",
        text="Where is my order?",
    )
    url = reverse("admin:sinch_whatsapp_inboundmessage_reply", args=[inbound.pk])
    page = admin_client.get(url)
    assert b"Where is my order?" in page.content and page.context["window_open"]
    response = admin_client.post(url, {"kind": "text", "text": "Tomorrow."})
    assert response["Location"] == inbox_url(contact)
    assert OutboundMessage.objects.get().recipient == "46732001122"
    change = admin_client.get(reverse("admin:sinch_whatsapp_inboundmessage_change", args=[inbound.pk]))
    assert url.encode() in change.content


# -- retry -----------------------------------------------------------------------------------


def retry_url(message) -> str:
    return reverse("admin:sinch_whatsapp_outboundmessage_retry", args=[message.pk])


def test_retry_an_error_row_sends_once(admin_client, sandbox_bot, fresh_sandbox):
    failed = OutboundMessage.objects.create(
        bot=sandbox_bot,
        recipient="46732001122",
        message_type="template",
        payload={"type": "template", "template_name": "welcome", "language": "en", "media": {"type": "text"}},
        state=MessageState.ERROR,
        error_status_code=401,
        error_message="Unauthorized",
    )
    change = admin_client.get(reverse("admin:sinch_whatsapp_outboundmessage_change", args=[failed.pk]))
    assert retry_url(failed).encode() in change.content
    assert admin_client.get(retry_url(failed)).status_code == 200
    first = admin_client.post(retry_url(failed), follow=True)
    assert "Sinch accepted 1 of 1 message(s)." in [str(m) for m in first.context["messages"]]
    retried = OutboundMessage.objects.exclude(pk=failed.pk)
    assert retried.count() == 1 and retried.get().sinch_message_id
    failed.refresh_from_db()
    assert failed.retry_send_id == retried.get().send_id  # retried once, for good (not only while the key lives)
    again = admin_client.post(retry_url(failed), follow=True)  # a second click, or a second operator
    assert "already retried" in again.context["refusal"]
    assert f"?send_id={failed.retry_send_id}".encode() in again.content  # a link to the retry
    # Two operators at once both pass the check before either records the retry: the key replays the first.
    OutboundMessage.objects.filter(pk=failed.pk).update(retry_send_id=None)
    raced = admin_client.post(retry_url(failed), follow=True)
    assert any("nothing was sent again" in str(m) for m in raced.context["messages"])
    assert OutboundMessage.objects.exclude(pk=failed.pk).count() == 1
    assert fresh_sandbox.count("POST", "/messages") == 1
    assert retry_key(failed) == f"retry:{failed.pk}"


@pytest.mark.parametrize("state", [MessageState.UNKNOWN, MessageState.DELIVERED])
def test_retry_refuses_what_might_send_twice(admin_client, sandbox_bot, fresh_sandbox, state):
    row = OutboundMessage.objects.create(
        bot=sandbox_bot,
        recipient="46732001122",
        message_type="text",
        payload={"type": "text", "text": "hi"},
        state=state,
    )
    page = admin_client.get(retry_url(row))
    refusal = page.context["refusal"]
    if state == MessageState.UNKNOWN:
        assert "Retrying could send it twice" in refusal and "run reconciliation first" in refusal
    else:
        assert "only messages" in refusal
    admin_client.post(retry_url(row))
    assert OutboundMessage.objects.count() == 1 and fresh_sandbox.count("POST", "/messages") == 0


def test_retry_refuses_an_inactive_bot(admin_client, make_bot, fresh_sandbox):
    bot = make_bot(base_url_override=fresh_sandbox.region_url("us"), is_active=False)
    row = OutboundMessage.objects.create(
        bot=bot,
        recipient="46732001122",
        message_type="text",
        payload={"type": "text", "text": "hi"},
        state=MessageState.ERROR,
    )
    assert "inactive" in admin_client.get(retry_url(row)).context["refusal"]
    admin_client.post(retry_url(row))
    assert OutboundMessage.objects.count() == 1


def test_other_tenants_objects_answer_404(
    admin_client, client, django_user_model, make_bot, other_organization, organization, fresh_sandbox
):
    from django.contrib.auth.models import Permission

    foreign = make_bot(
        tenant=other_organization, sinch_bot_id="globex", base_url_override=fresh_sandbox.region_url("us")
    )
    contact = Contact.objects.create(bot=foreign, number="+46732001122", last_inbound_at=timezone.now())
    row = OutboundMessage.objects.create(
        bot=foreign,
        recipient="46732001122",
        message_type="text",
        payload={"type": "text", "text": "hi"},
        state=MessageState.ERROR,
    )
    user = django_user_model.objects.create_user("alice", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="sinch_whatsapp"))
    organization.members.add(user)
    client.force_login(user)
    for url, data in [
        (send_url(foreign), template_post()),
        (inbox_url(contact), {"kind": "text", "text": "hi"}),
        (retry_url(row), {}),
        (reverse("admin:sinch_whatsapp_bot_dashboard", args=[foreign.pk]), None),
    ]:
        assert client.get(url).status_code == 404
        if data is not None:
            assert client.post(url, data).status_code == 404
    assert OutboundMessage.objects.count() == 1 and fresh_sandbox.count("POST", "/messages") == 0
