"""Issue 7, "Checked by": the real webhook view on PostgreSQL, fed correctly signed bodies built from
a JSON-ish grammar that includes every construct of item 2 (deep nesting, NaN/Infinity, 1e400,
NUL, lone surrogates, long nonces, ids too long for their columns, entries that are not objects).

Invariants: never a 5xx; a 2xx leaves exactly one stored row with the raw bytes; a 4xx leaves none;
every readable status and notification is applied, whatever unreadable siblings it has.
Seeded (derandomized): 2,000 examples when CI=true, 150 locally.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_sinch_whatsapp.callbacks import refusals
from django_sinch_whatsapp.models import CallbackEvent, InboundMessage, MessageState, OutboundMessage, StatusEvent

from .webhook_helpers import signed_headers

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXAMPLES = 2_000 if IN_CI else 150
KNOWN = [f"known-{i}" for i in range(4)]
STATES = ["queued", "dispatched", "sent", "delivered", "read", "failed", "deleted", "some_new_state"]
# Django 6.1 renamed savepoint() (deprecated until Django 2028); 5.2 has only the old name.
_savepoint_create = getattr(transaction, "savepoint_create", None) or transaction.savepoint

_serial = itertools.count()


@dataclass
class Body:
    text: str
    #: "stored" (2xx expected) or "refused" (4xx expected)
    outcome: str = "stored"
    statuses: list[tuple[str, str]] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)


WEIRD_STRING = st.sampled_from(['"\\u0000"', '"a\\ud800b"', '"\\udfff"', '"x\\u0000y\\ud83d"', '"\\ud83d\\ude00"'])
WEIRD_NUMBER = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400"])
DEEP = st.integers(min_value=60, max_value=700).map(lambda d: "[" * d + "]" * d)
PLAIN = st.one_of(st.text(max_size=20).map(json.dumps), st.integers().map(str), st.sampled_from(["null", "true", "{}"]))
ANY_VALUE = st.one_of(WEIRD_STRING, WEIRD_NUMBER, DEEP, PLAIN)
TOKEN = st.text(alphabet="ABCDEFGHJKMNPQRSTVWXYZ0123456789", min_size=6, max_size=26)


def obj(pairs: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}"


@st.composite
def readable_status(draw):
    message_id = draw(st.one_of(st.sampled_from(KNOWN), TOKEN.map(lambda t: f"new-{t}")))
    state = draw(st.sampled_from(STATES))
    pairs = [("message_id", json.dumps(message_id)), ("state", json.dumps(state))]
    pairs += draw(st.lists(st.tuples(st.sampled_from(["details", "status", "timestamp", "x"]), ANY_VALUE), max_size=3))
    pairs.append(("recipient", draw(st.sampled_from(['"+46732001122"', '"46732001122"', "null", '"\\u0000"']))))
    return obj(pairs), (message_id, state)


@st.composite
def unreadable_status(draw):
    kind = draw(st.sampled_from(["long_id", "not_object", "no_state", "weird_id"]))
    if kind == "long_id":
        return obj([("message_id", json.dumps("L" * draw(st.integers(101, 400)))), ("state", '"sent"')])
    if kind == "not_object":
        return draw(st.one_of(WEIRD_STRING, WEIRD_NUMBER, DEEP, st.just("[]"), st.just("null")))
    if kind == "no_state":
        return obj([("message_id", json.dumps(draw(TOKEN)))])
    return obj([("message_id", draw(st.one_of(WEIRD_NUMBER, st.just("null"), st.just("{}")))), ("state", '"sent"')])


@st.composite
def readable_notification(draw):
    message_id = f"in-{draw(TOKEN)}"
    body = draw(st.one_of(WEIRD_STRING, PLAIN))
    message = obj([("type", json.dumps(draw(st.sampled_from(["text", "image", "brand_new"])))), ("body", body)])
    pairs = [
        ("from", draw(st.sampled_from(['"46732001122"', '"0732001122"', '"+4673200\\u00001122"', "null"]))),
        ("to", '"support-bot"'),
        ("message_id", json.dumps(message_id)),
        ("message", message),
        ("timestamp", draw(st.one_of(st.just('"2020-05-02T19:48:42Z"'), ANY_VALUE))),
    ]
    return obj(pairs), message_id


@st.composite
def unreadable_notification(draw):
    kind = draw(st.sampled_from(["long_id", "not_object", "no_id"]))
    if kind == "long_id":
        return obj([("message_id", json.dumps("I" * draw(st.integers(201, 500)))), ("message", '{"type": "text"}')])
    if kind == "not_object":
        return draw(st.one_of(WEIRD_NUMBER, DEEP, PLAIN))
    return obj([("from", '"46732001122"'), ("message", '{"type": "text", "body": "x"}')])


@st.composite
def callback(draw):
    body = Body("")
    statuses = []
    for readable in draw(st.lists(st.booleans(), max_size=8)):
        if readable:
            text, expected = draw(readable_status())
            body.statuses.append(expected)
        else:
            text = draw(unreadable_status())
        statuses.append(text)
    notifications = []
    for readable in draw(st.lists(st.booleans(), max_size=5)):
        if readable:
            text, expected_id = draw(readable_notification())
            body.notifications.append(expected_id)
        else:
            text = draw(unreadable_notification())
        notifications.append(text)
    pairs = [("type", '"whatsapp"')]
    if statuses or draw(st.booleans()):
        pairs.append(("statuses", "[" + ", ".join(statuses) + "]"))
    if notifications or not statuses:
        pairs.append(("notifications", "[" + ", ".join(notifications) + "]"))
    if draw(st.booleans()):
        pairs.append(("contacts", '[{"wa_id": "46732001122", "profile": {"name": ' + draw(ANY_VALUE) + "}}]"))
    body.text = obj(pairs)
    return body


BODIES = st.one_of(
    callback(),
    # Whole bodies that are JSON but not callbacks, or not readable at all: stored, nothing applied.
    st.one_of(ANY_VALUE, st.just("[" * 100_000 + "]" * 100_000)).map(Body),
    # Not JSON: refused before anything is stored.
    callback().map(lambda b: Body(b.text[: max(1, len(b.text) // 2)] + "{", outcome="refused")),
)
NONCES = st.one_of(TOKEN, st.integers(201, 600).map(lambda n: "N" * n))


@pytest.fixture
def known_messages(bot):
    refusals.reset_for_tests()
    OutboundMessage.objects.bulk_create(
        OutboundMessage(
            bot=bot,
            recipient="46732001122",
            message_type="text",
            payload={},
            sinch_message_id=message_id,
            state=MessageState.QUEUED,
        )
        for message_id in KNOWN
    )


def _sanitized(text: str) -> str:
    return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in text)


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=BODIES, nonce=NONCES)
def test_signed_bodies_are_stored_or_refused_never_5xx(client, bot, known_messages, body, nonce):
    assert connection.vendor == "postgresql"
    raw = body.text.encode("utf-8", "surrogatepass")
    nonce = f"{nonce}-{next(_serial)}"  # every example is a first delivery, never a replay
    savepoint = _savepoint_create()
    try:
        response = client.post(
            bot.callback_path, data=raw, content_type="application/json", **signed_headers(raw, nonce=nonce)
        )
        assert response.status_code < 500, (response.status_code, response.content[:300], body.text[:300])
        stored = list(CallbackEvent.objects.all())
        if response.status_code >= 400:
            assert body.outcome == "refused", (response.content[:300], body.text[:300])
            assert stored == []
            return
        assert body.outcome == "stored", body.text[:300]
        assert len(stored) == 1 and bytes(stored[0].body) == raw
        assert stored[0].processing_state in ("processed", "uninterpreted")
        for message_id, state in body.statuses:
            assert StatusEvent.objects.filter(sinch_message_id=message_id, state=state).exists(), (message_id, state)
        for message_id in body.notifications:
            assert InboundMessage.objects.filter(sinch_message_id=_sanitized(message_id)).exists(), message_id
        if body.statuses or body.notifications:
            assert stored[0].processing_state == "processed", stored[0].processing_error
    finally:
        transaction.savepoint_rollback(savepoint)
