"""Every changelist of the app makes the same number of queries at 10 rows as at 1,000.

The admins are read from the admin site's registry, so a newly registered one is
measured without a new line here (a model without a factory below fails the test).
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from django_sinch_whatsapp.models import (
    Bot,
    CallbackEvent,
    Campaign,
    Contact,
    InboundMessage,
    MediaProvider,
    MessageState,
    OutboundMessage,
    Sticker,
    Stickerpack,
)
from tests.tenants.models import Organization

from .conftest import CALLBACK_KEY, TOKEN
from .webhook_helpers import status_payload

pytestmark = pytest.mark.django_db

_serial = itertools.count()


def _bots(count: int) -> list[Bot]:
    """``count`` bots, each of its own tenant (a list that did not join tenants would query each)."""
    tenants = Organization.objects.bulk_create(Organization(name=f"Tenant {next(_serial)}") for _ in range(count))
    return Bot.objects.bulk_create(
        Bot(tenant=t, name=f"Bot {t.name}", sinch_bot_id=f"bot-{t.pk}", bearer_token=TOKEN, callback_key=CALLBACK_KEY)
        for t in tenants
    )


def fill(model: type, count: int, bots: list[Bot]) -> None:
    now = timezone.now()
    n = [next(_serial) for _ in range(count)]
    if model is Bot:
        _bots(count)
    elif model is Contact:
        Contact.objects.bulk_create(
            Contact(bot=bots[i % len(bots)], number=f"+4673{k:07d}", last_inbound_at=now - timedelta(hours=i))
            for i, k in enumerate(n)
        )
    elif model is OutboundMessage:
        contacts = list(Contact.objects.all()[:5]) or [None]
        OutboundMessage.objects.bulk_create(
            OutboundMessage(
                bot=bots[i % len(bots)],
                contact=contacts[i % len(contacts)],
                recipient="46732001122",
                message_type="text",
                payload={"type": "text", "text": "hi"},
                state=MessageState.ERROR if i % 3 == 0 else MessageState.DELIVERED,
                error_status_code=401 if i % 3 == 0 else None,
                error_message="Unauthorized" if i % 3 == 0 else "",
                sinch_message_id=f"s-{k}",
            )
            for i, k in enumerate(n)
        )
    elif model is InboundMessage:
        contacts = list(Contact.objects.all()[:5]) or [None]
        InboundMessage.objects.bulk_create(
            InboundMessage(
                bot=bots[i % len(bots)],
                contact=contacts[i % len(contacts)],
                sinch_message_id=f"in-{k}",
                from_number="46732001122",
                message_type="text",
                text="hello",
            )
            for i, k in enumerate(n)
        )
    elif model is CallbackEvent:
        CallbackEvent.objects.bulk_create(
            CallbackEvent(
                bot=bots[i % len(bots)],
                body=b"{}",
                payload=status_payload(f"s-{k}", "delivered"),
                signature_verdict="valid",
                processing_state="processed",
                nonce=f"nonce-{k}",
            )
            for i, k in enumerate(n)
        )
    elif model is MediaProvider:
        MediaProvider.objects.bulk_create(
            MediaProvider(bot=bots[i % len(bots)], name=f"p{k}", kind="basic") for i, k in enumerate(n)
        )
    elif model is Stickerpack:
        Stickerpack.objects.bulk_create(
            Stickerpack(bot=bots[i % len(bots)], sinch_id=f"sp{k}", name=f"Pack {k}", publisher="Us")
            for i, k in enumerate(n)
        )
    elif model is Sticker:
        packs = Stickerpack.objects.bulk_create(
            Stickerpack(bot=bot, sinch_id=f"sp{next(_serial)}", name="Pack", publisher="Us") for bot in bots
        )
        Sticker.objects.bulk_create(
            Sticker(stickerpack=packs[i % len(packs)], index=str(i), url="https://media.example/s.webp")
            for i in range(count)
        )
    elif model is Campaign:
        Campaign.objects.bulk_create(
            Campaign(bot=bots[i % len(bots)], template_name=f"welcome_{k}") for i, k in enumerate(n)
        )
    else:
        raise AssertionError(f"no factory for {model.__name__}: add one to measure its changelist")


OUR_MODELS = sorted(
    (m for m in admin.site._registry if m._meta.app_label == "sinch_whatsapp"), key=lambda m: m._meta.model_name
)


def count_queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.model_name)
def test_changelist_queries_are_the_same_at_10_and_1000_rows(admin_client, model):
    bots = _bots(5)
    url = reverse(f"admin:sinch_whatsapp_{model._meta.model_name}_changelist")
    fill(model, 10, bots)
    small = count_queries(admin_client, url)
    fill(model, 990, bots)
    large = count_queries(admin_client, url)
    print(f"\n{model._meta.model_name}: {small} queries at 10 rows, {large} at 1000")
    assert model._default_manager.count() >= 1000
    assert small == large
