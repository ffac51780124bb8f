"""The list filters: validated (a bad value is a 400 naming it), and numbers matched whatever their format."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from django_sinch_whatsapp.models import Contact, InboundMessage, OutboundMessage

pytestmark = pytest.mark.django_db

MESSAGES = "/api/sinch-whatsapp/messages/"
CONTACTS = "/api/sinch-whatsapp/contacts/"
INBOUND = "/api/sinch-whatsapp/inbound/"


@pytest.fixture
def api(api_user):
    client = APIClient()
    client.force_authenticate(api_user)
    return client


@pytest.fixture
def world(make_bot):
    bot = make_bot(default_region="SE")
    anna = Contact.objects.create(bot=bot, number="+46732001122", opt_in_state="opted_in")
    bo = Contact.objects.create(bot=bot, number="+46732001133")
    old = OutboundMessage.objects.create(
        bot=bot, contact=anna, recipient="46732001122", message_type="text", payload={}, state="read"
    )
    OutboundMessage.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    image = OutboundMessage.objects.create(
        bot=bot, contact=bo, recipient="46732001133", message_type="image", payload={}, state="failed"
    )
    InboundMessage.objects.create(
        bot=bot, contact=anna, sinch_message_id="in-1", from_number="46732001122", from_e164="+46732001122",
        message_type="text", received_at=timezone.now() - datetime.timedelta(days=2),
    )  # fmt: skip
    InboundMessage.objects.create(
        bot=bot, contact=bo, sinch_message_id="in-2", from_number="0732001133", from_e164="+46732001133",
        message_type="location",
    )  # fmt: skip
    return {"bot": bot, "anna": anna, "bo": bo, "old": old, "image": image}


def ids(response):
    assert response.status_code == 200, response.content
    return {str(item["id"]) for item in response.json()["results"]}


def test_an_unknown_choice_is_a_400_naming_the_filter(api, world):
    for url, query in (
        (MESSAGES, {"state": "nonsense"}),
        (MESSAGES, {"type": "fax"}),
        (CONTACTS, {"opt_in_state": "x"}),
    ):
        response = api.get(url, query)
        assert response.status_code == 400, (url, query)
        assert list(response.json()["error"]["fields"]) == list(query)
    assert api.get(MESSAGES, {"created_after": "yesterday"}).status_code == 400


def test_recipient_matches_in_any_format(api, world):
    expected = {str(world["old"].pk)}
    for written in ("46732001122", "+46732001122", "+46 73-200 11 22"):
        assert ids(api.get(MESSAGES, {"recipient": written})) == expected, written
    # National format is read in the bot's default region.
    assert ids(api.get(MESSAGES, {"recipient": "0732001122", "bot": world["bot"].pk})) == expected
    response = api.get(MESSAGES, {"recipient": "not a number"})
    assert response.status_code == 400 and "recipient" in response.json()["error"]["fields"]


def test_contact_type_state_and_dates_filter_messages(api, world):
    assert ids(api.get(MESSAGES, {"contact": world["bo"].pk})) == {str(world["image"].pk)}
    assert ids(api.get(MESSAGES, {"type": "image"})) == {str(world["image"].pk)}
    assert ids(api.get(MESSAGES, {"state": "read"})) == {str(world["old"].pk)}
    yesterday = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert ids(api.get(MESSAGES, {"created_after": yesterday})) == {str(world["image"].pk)}
    assert ids(api.get(MESSAGES, {"created_before": yesterday})) == {str(world["old"].pk)}


def test_contacts_number_matches_without_a_plus(api, world):
    for written in ("46732001122", "+46732001122", "+46 (0)73 200 11 22"):
        assert ids(api.get(CONTACTS, {"number": written})) == {str(world["anna"].pk)}, written
    assert ids(api.get(CONTACTS, {"number": "0732001133", "bot": world["bot"].pk})) == {str(world["bo"].pk)}
    assert ids(api.get(CONTACTS, {"opt_in_state": "opted_in"})) == {str(world["anna"].pk)}


def test_inbound_filters_by_sender_contact_type_and_date(api, world):
    everything = ids(api.get(INBOUND))
    assert len(everything) == 2
    (anna_in,) = ids(api.get(INBOUND, {"sender": "46732001122"}))
    assert ids(api.get(INBOUND, {"contact": world["anna"].pk})) == {anna_in}
    assert ids(api.get(INBOUND, {"type": "location"})) == everything - {anna_in}
    yesterday = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert ids(api.get(INBOUND, {"received_before": yesterday})) == {anna_in}


def test_filters_never_reach_another_tenants_bot(api, world, make_bot, other_organization):
    theirs = make_bot(tenant=other_organization, sinch_bot_id="theirs")
    OutboundMessage.objects.create(bot=theirs, recipient="46732001122", message_type="text", payload={})
    assert ids(api.get(MESSAGES, {"bot": theirs.pk})) == set()
    assert ids(api.get(MESSAGES, {"recipient": "46732001122"})) == {str(world["old"].pk)}
