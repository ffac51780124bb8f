"""Console actions that call Sinch (the sandbox here): what people see, what gets recorded."""

from __future__ import annotations

import pytest

from django_sinch_whatsapp.models import Contact, InboundMessage

pytestmark = pytest.mark.django_db(transaction=True)


def run_action(admin_client, model, action, pks):
    response = admin_client.post(
        f"/admin/sinch_whatsapp/{model}/", {"action": action, "_selected_action": [str(pk) for pk in pks]}, follow=True
    )
    assert response.status_code == 200
    return [str(m) for m in response.context["messages"]]


def test_opt_in_capability_and_opt_out_from_the_contact_list(admin_client, sandbox_bot, fresh_sandbox):
    contacts = [Contact.objects.create(bot=sandbox_bot, number=n) for n in ("+46732001122", "+46732001133")]
    fresh_sandbox.set_capability(sandbox_bot.sinch_bot_id, "46732001133", False)
    pks = [c.pk for c in contacts]
    assert run_action(admin_client, "contact", "opt_in", pks) == ["Support: opted in 2 number(s)."]
    assert set(Contact.objects.values_list("opt_in_state", "opt_in_source")) == {("opted_in", "admin:admin")}
    assert run_action(admin_client, "contact", "check_capability", pks) == ["Support: checked 2 number(s)."]
    assert dict(Contact.objects.values_list("number", "capability")) == {
        "+46732001122": "capable",
        "+46732001133": "not_capable",
    }
    run_action(admin_client, "contact", "opt_out", pks[:1])
    assert Contact.objects.get(pk=pks[0]).opt_in_state == "opted_out"
    assert fresh_sandbox.count("DELETE", "/provision/optin") == 1


def test_sinch_refusal_is_shown_with_its_message_and_the_region_hint(admin_client, make_bot, fresh_sandbox):
    bot = make_bot(base_url_override=fresh_sandbox.region_url("us"), bearer_token="wrong-token-123")
    fresh_sandbox.register_bot(bot.sinch_bot_id, "the-right-token", region="us")
    contact = Contact.objects.create(bot=bot, number="+46732001122")
    [text] = run_action(admin_client, "contact", "opt_in", [contact.pk])
    assert "401" in text and "region" in text
    assert "wrong-token-123" not in text
    assert Contact.objects.get().opt_in_state == "unknown"


def test_mark_read_from_the_inbound_list(admin_client, sandbox_bot, fresh_sandbox):
    message_id = fresh_sandbox.inject_inbound(sandbox_bot.sinch_bot_id, "46732001122", text="hi")
    inbound = InboundMessage.objects.create(
        bot=sandbox_bot, sinch_message_id=message_id, from_number="46732001122", message_type="text"
    )
    assert run_action(admin_client, "inboundmessage", "mark_read", [inbound.pk]) == ["Marked 1 message(s) read."]
    inbound.refresh_from_db()
    assert inbound.read_at is not None
    assert fresh_sandbox.count("POST", "/events") == 1
