"""Concurrent, duplicated, shuffled callbacks on PostgreSQL: unique constraints decide, not memory."""

from __future__ import annotations

import json
import random
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from django_sinch_whatsapp.callbacks.signature import sign
from django_sinch_whatsapp.models import (
    CallbackEvent,
    Contact,
    InboundMessage,
    MessageState,
    OutboundMessage,
    StatusEvent,
)

from .conftest import CALLBACK_KEY
from .webhook_helpers import inbound_text_payload, status_payload

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

STATES = ["queued", "dispatched", "sent", "delivered", "read"]
MESSAGES = 240  # x 5 states = 1,200 status callbacks
INBOUND = 200
TOTAL = 2_000  # 1,400 unique + 600 duplicates (30%)


def _signed(body: bytes, nonce: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "sinch-whatsapp-callback-signature": sign(CALLBACK_KEY, body, nonce),
        "sinch-whatsapp-callback-signature-algorithm": "HMAC_SHA_256",
        "sinch-whatsapp-callback-signature-nonce": nonce,
    }


def test_8_threads_2000_callbacks_30_percent_duplicates(live_server, bot):
    assert connection.vendor == "postgresql"
    OutboundMessage.objects.bulk_create(
        OutboundMessage(
            bot=bot,
            recipient=f"467320{i:05d}",
            message_type="text",
            payload={},
            sinch_message_id=f"msg-{i}",
            state=MessageState.ACCEPTED,
        )
        for i in range(MESSAGES)
    )
    unique = [
        status_payload(f"msg-{i}", state, recipient=f"+467320{i:05d}") for i in range(MESSAGES) for state in STATES
    ]
    unique += [inbound_text_payload(f"in-{i}", f"hello {i}", sender=f"4670000{i % 50:04d}") for i in range(INBOUND)]
    rng = random.Random(2026)
    deliveries = []
    for payload in unique:
        body = json.dumps(payload).encode()
        deliveries.append((body, secrets.token_hex(12)))
    duplicates = []
    for body, nonce in rng.sample(deliveries, TOTAL - len(deliveries)):
        # Half are Sinch-style retries (same nonce), half arrive re-signed with a new nonce.
        duplicates.append((body, nonce if rng.random() < 0.5 else secrets.token_hex(12)))
    deliveries += duplicates
    rng.shuffle(deliveries)
    assert len(deliveries) == TOTAL

    url = live_server.url + bot.callback_path
    local = {}

    def post(item):
        body, nonce = item
        session = local.setdefault(id(__import__("threading").current_thread()), requests.Session())
        return session.post(url, data=body, headers=_signed(body, nonce), timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(post, deliveries))
    assert codes.count(200) == TOTAL, {c: codes.count(c) for c in set(codes)}

    assert StatusEvent.objects.count() == MESSAGES * len(STATES)
    assert set(OutboundMessage.objects.values_list("state", flat=True)) == {"read"}
    assert InboundMessage.objects.count() == INBOUND
    assert Contact.objects.filter(bot=bot, number__startswith="+4670000").count() == 50
    unique_nonces = len({nonce for _, nonce in deliveries})
    assert CallbackEvent.objects.count() == unique_nonces
    assert not CallbackEvent.objects.exclude(processing_state="processed").exists()
    for message in OutboundMessage.objects.all()[:20]:
        assert sorted(message.status_events.values_list("state", flat=True)) == sorted(STATES)
