"""Capability and consent on a Conversation bot: asked through the same services as the legacy API,
recorded as the API answers them (later, by signed callback), over real HTTP both ways."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from rest_framework.test import APIClient

from django_sinch_whatsapp import services, signals
from django_sinch_whatsapp.callbacks.events import CapabilityNotification, ConsentNotification, ParsedCallback
from django_sinch_whatsapp.callbacks.processing import apply_parsed
from django_sinch_whatsapp.models import CallbackEvent, Capability, Contact, OptInState
from django_sinch_whatsapp.sandbox.conversation.signing import sign_headers
from django_sinch_whatsapp.transports.conversation.transport import ConversationTransport
from django_sinch_whatsapp.transports.errors import ConsentRegistrationNotFound, FeatureNotSupported
from tests.conftest import wait_for
from tests.conversation_helpers import APP, PROJECT, WEBHOOK_SECRET

pytestmark = pytest.mark.django_db(transaction=True)

ONE, TWO = "46732001122", "46732002244"


def _requests(sandbox, suffix):
    return [e for e in sandbox.requests_log if urlsplit(e["path"]).path.endswith(suffix)]


class Recorder:
    """Collects a signal's kwargs; connected for one test only."""

    def __init__(self, signal):
        self.signal, self.calls = signal, []

    def __call__(self, sender, **kwargs):
        self.calls.append(kwargs)

    def __enter__(self):
        self.signal.connect(self, weak=False, dispatch_uid=id(self))
        return self

    def __exit__(self, *exc):
        self.signal.disconnect(dispatch_uid=id(self))


def _post_signed(bot, **members):
    body = json.dumps({"app_id": APP, "project_id": PROJECT, **members}, separators=(",", ":")).encode()
    headers = sign_headers(WEBHOOK_SECRET, body, f"nonce-{time.monotonic_ns()}", int(time.time()))
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return Client().post(bot.callback_path, data=body, content_type="application/json", **extra)


def _capability(identity, status="CAPABILITY_FULL", request_id="R1"):
    return {"identity": identity, "channel": "WHATSAPP", "capability_status": status, "request_id": request_id}


def _consent(identity, status, request_id="R1"):
    return {"identity": identity, "channel": "WHATSAPP", "status": status, "request_id": request_id}


# -- capability ---------------------------------------------------------------------------------------------


def test_a_lookup_is_recorded_pending_with_when_it_was_asked(conversation_bot, fresh_sandbox):
    Contact.objects.create(bot=conversation_bot, number="+" + ONE, capability=Capability.CAPABLE)
    outcome = services.check_capability(conversation_bot, [ONE, "+46 73-200 22 44", "nope"])
    assert outcome.pending == ["+" + ONE, "+" + TWO] and outcome.capable == {}
    assert outcome.done == ["+" + ONE, "+" + TWO] and [r.raw for r in outcome.rejected] == ["nope"]
    queries = [e["body"] for e in _requests(fresh_sandbox, "/capability:query")]
    assert [q["recipient"]["identified_by"]["channel_identities"][0]["identity"] for q in queries] == [ONE, TWO]
    assert all(q["request_id"] and q["app_id"] == APP for q in queries)
    for contact in Contact.objects.filter(bot=conversation_bot):
        # A known answer gives way to the lookup in flight: the callback will say what is true now.
        assert contact.capability == Capability.PENDING and contact.capability_requested_at is not None
        assert contact.get_capability_display() == "lookup pending"


def test_the_signed_capability_callback_settles_the_lookup_and_signals(live_conversation_bot, fresh_sandbox):
    fresh_sandbox.conversation.set_capability(PROJECT, APP, TWO, capable=False)
    with Recorder(signals.capability_recorded) as seen:
        outcome = services.check_capability(live_conversation_bot, [ONE, TWO])
        assert outcome.pending == ["+" + ONE, "+" + TWO]

        def settled():
            states = dict(Contact.objects.filter(bot=live_conversation_bot).values_list("number", "capability"))
            return states if Capability.PENDING not in states.values() and len(seen.calls) == 2 else None

        states = wait_for(settled, timeout=10)
    assert states == {"+" + ONE: Capability.CAPABLE, "+" + TWO: Capability.NOT_CAPABLE}
    sent_ids = {q["body"]["request_id"] for q in _requests(fresh_sandbox, "/capability:query")}
    assert {call["event"].request_id for call in seen.calls} == sent_ids
    assert {(call["contact"].number, call["capability"]) for call in seen.calls} == set(states.items())
    events = CallbackEvent.objects.filter(bot=live_conversation_bot)
    assert [(e.signature_verdict, e.processing_state, e.processing_error) for e in events] == [
        ("valid", "processed", "")
    ] * 2
    for contact in Contact.objects.filter(bot=live_conversation_bot):
        assert contact.capability_checked_at >= contact.capability_requested_at


def test_an_answer_that_overtakes_its_request_is_not_overwritten_by_pending(
    conversation_bot, fresh_sandbox, monkeypatch
):
    real = ConversationTransport.check_capability

    def answered_before_the_call_returns(self, recipients):
        answers = real(self, recipients)
        # The callback lands (and is applied) while the request's own answer is still on its way.
        assert (
            _post_signed(conversation_bot, capability_notification=_capability(ONE, "NO_CAPABILITY")).status_code == 200
        )
        return answers

    monkeypatch.setattr(ConversationTransport, "check_capability", answered_before_the_call_returns)
    outcome = services.check_capability(conversation_bot, [ONE])
    assert outcome.pending == ["+" + ONE]
    contact = Contact.objects.get(bot=conversation_bot)
    assert contact.capability == Capability.NOT_CAPABLE and contact.capability_requested_at is not None


def test_capability_unknown_and_answers_for_unknown_contacts(conversation_bot):
    assert (
        _post_signed(conversation_bot, capability_notification=_capability(ONE, "CAPABILITY_UNKNOWN")).status_code
        == 200
    )
    assert (
        _post_signed(conversation_bot, capability_notification=_capability(TWO, "CAPABILITY_PARTIAL")).status_code
        == 200
    )
    states = dict(Contact.objects.filter(bot=conversation_bot).values_list("number", "capability"))
    assert states == {"+" + ONE: Capability.UNKNOWN, "+" + TWO: Capability.CAPABLE}


def test_the_api_answers_the_pending_numbers_and_shows_the_state(api_user, conversation_bot, fresh_sandbox):
    api = APIClient()
    api.force_authenticate(api_user)
    response = api.post(
        f"/api/sinch-whatsapp/bots/{conversation_bot.pk}/capability/", {"numbers": [ONE]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["pending"] == ["+" + ONE] and response.json()["capable"] == {}
    [listed] = api.get(f"/api/sinch-whatsapp/contacts/?bot={conversation_bot.pk}").json()["results"]
    assert listed["capability"] == "pending" and listed["capability_requested_at"]


@pytest.mark.parametrize("kind", ["capabilities", "consents"])
def test_applying_answers_costs_the_same_queries_for_2_or_50(conversation_bot, django_assert_num_queries, kind):
    def parsed(start, n):
        numbers = [f"+467330{start + i:05d}" for i in range(n)]
        if kind == "capabilities":
            items = [CapabilityNotification("R", n[1:], n, i % 2 == 0, "S") for i, n in enumerate(numbers)]
            return ParsedCallback(capabilities=items)
        status = ("OPT_IN_SUCCEEDED", "OPT_IN_FAILED")
        items = [
            ConsentNotification("opt_in", "R", n[1:], n, i % 2 == 0, status[i % 2], failed=i % 2 == 1)
            for i, n in enumerate(numbers)
        ]
        return ParsedCallback(consents=items)

    counts = []
    for start, n in ((0, 2), (100, 50)):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            apply_parsed(conversation_bot, parsed(start, n))
        counts.append(len(captured))
    assert counts[0] == counts[1] and counts[0] <= 3, counts
    assert Contact.objects.filter(bot=conversation_bot).count() == 52


# -- opt-in / opt-out ---------------------------------------------------------------------------------------


def test_opt_in_and_out_register_at_sinch_and_the_confirmations_change_nothing(live_conversation_bot, fresh_sandbox):
    with Recorder(signals.opt_in_recorded) as seen:
        outcome = services.opt_in(live_conversation_bot, [ONE, TWO], source="api:alice")
        assert outcome.ok and outcome.done == ["+" + ONE, "+" + TWO]
        assert fresh_sandbox.wait_for_callbacks(10)
    registrations = _requests(fresh_sandbox, "/optins:register")
    assert [r["body"]["recipient"]["identified_by"]["channel_identities"][0]["identity"] for r in registrations] == [
        ONE,
        TWO,
    ]
    assert all(r["body"]["channels"] == ["WHATSAPP"] and parse_qs(r["query"])["request_id"] for r in registrations)
    # Recorded when Sinch accepted the registration; its OPT_IN_SUCCEEDED callback confirms it, changing nothing.
    # The callback may also overtake the registration's answer: then it records the change and the answer does
    # not signal it again. Either way one signal per contact.
    signalled = sorted((c["contact"].number, c["opt_in_state"]) for c in seen.calls)
    assert signalled == [("+" + ONE, OptInState.OPTED_IN), ("+" + TWO, OptInState.OPTED_IN)]
    assert set(Contact.objects.values_list("opt_in_state", "opt_in_source")) == {(OptInState.OPTED_IN, "api:alice")}
    assert CallbackEvent.objects.filter(signature_verdict="valid", processing_state="processed").count() == 2
    outcome = services.opt_out(live_conversation_bot, ["+" + ONE], source="admin:bob")
    assert outcome.ok and fresh_sandbox.wait_for_callbacks(10)
    assert len(_requests(fresh_sandbox, "/optouts:register")) == 1
    contact = Contact.objects.get(number="+" + ONE)
    assert (contact.opt_in_state, contact.opt_in_source) == (OptInState.OPTED_OUT, "admin:bob")


def test_a_registration_sinch_refuses_is_undone_by_its_callback(live_conversation_bot, fresh_sandbox):
    fresh_sandbox.conversation.configure_consent(PROJECT, APP, number=TWO, refused=True)
    with Recorder(signals.opt_in_recorded) as seen:
        services.opt_in(live_conversation_bot, [ONE, TWO], source="api:alice")
        refused = wait_for(lambda: [c for c in seen.calls if c["event"] is not None], timeout=10)
    [call] = refused
    assert call["contact"].number == "+" + TWO and call["opt_in_state"] == OptInState.UNKNOWN
    assert call["event"].failed and call["event"].status == "OPT_IN_FAILED"
    states = dict(Contact.objects.values_list("number", "opt_in_state"))
    assert states == {"+" + ONE: OptInState.OPTED_IN, "+" + TWO: OptInState.UNKNOWN}
    assert Contact.objects.get(number="+" + TWO).opt_in_source == "sinch:OPT_IN_FAILED"


def test_a_refusal_that_overtakes_the_registrations_answer_wins(conversation_bot, fresh_sandbox, monkeypatch):
    real = ConversationTransport.opt_in

    def refused_before_the_call_returns(self, recipients):
        real(self, recipients)
        assert _post_signed(conversation_bot, opt_in_notification=_consent(ONE, "OPT_IN_FAILED")).status_code == 200

    monkeypatch.setattr(ConversationTransport, "opt_in", refused_before_the_call_returns)
    assert services.opt_in(conversation_bot, [ONE], source="api:alice").ok
    contact = Contact.objects.get(bot=conversation_bot)
    assert (contact.opt_in_state, contact.opt_in_source) == (OptInState.UNKNOWN, "sinch:OPT_IN_FAILED")


def test_a_confirmation_that_overtakes_the_registrations_answer_is_signalled_once(
    conversation_bot, fresh_sandbox, monkeypatch
):
    real = ConversationTransport.opt_in

    def confirmed_before_the_call_returns(self, recipients):
        real(self, recipients)
        assert _post_signed(conversation_bot, opt_in_notification=_consent(ONE, "OPT_IN_SUCCEEDED")).status_code == 200

    monkeypatch.setattr(ConversationTransport, "opt_in", confirmed_before_the_call_returns)
    with Recorder(signals.opt_in_recorded) as seen:
        assert services.opt_in(conversation_bot, [ONE], source="api:alice").ok
    [call] = seen.calls
    assert call["opt_in_state"] == OptInState.OPTED_IN and call["event"].status == "OPT_IN_SUCCEEDED"
    contact = Contact.objects.get(bot=conversation_bot)
    assert (contact.opt_in_state, contact.opt_in_source) == (OptInState.OPTED_IN, "api:alice")


def test_a_channels_own_opt_out_notification_is_applied(conversation_bot):
    Contact.objects.create(bot=conversation_bot, number="+" + ONE, opt_in_state=OptInState.OPTED_IN)
    for identity in (ONE, TWO):
        response = _post_signed(conversation_bot, opt_out_notification=_consent(identity, "OPT_OUT_SUCCEEDED"))
        assert response.status_code == 200
    rows = set(Contact.objects.values_list("number", "opt_in_state", "opt_in_source"))
    assert rows == {
        ("+" + ONE, OptInState.OPTED_OUT, "sinch:OPT_OUT_SUCCEEDED"),
        ("+" + TWO, OptInState.OPTED_OUT, "sinch:OPT_OUT_SUCCEEDED"),
    }
    assert all(not e.processing_error for e in CallbackEvent.objects.all())


def test_when_sinch_no_longer_offers_registration_the_numbers_fail_with_that_hint(
    api_user, conversation_bot, fresh_sandbox
):
    fresh_sandbox.conversation.configure_consent(PROJECT, APP, endpoints=False)
    outcome = services.opt_in(conversation_bot, [ONE], source="api:alice")
    [failed] = outcome.failed
    assert isinstance(failed.error, ConsentRegistrationNotFound) and "optional" in str(failed.error)
    assert not outcome.done and not Contact.objects.exists()
    api = APIClient()
    api.force_authenticate(api_user)
    response = api.post(f"/api/sinch-whatsapp/bots/{conversation_bot.pk}/opt-out/", {"numbers": [ONE]}, format="json")
    assert response.status_code >= 400 and "optional" in response.json()["error"]["hint"]


def test_the_deprecated_opt_out_endpoint_is_refused_naming_the_transport(conversation_bot, fresh_sandbox):
    with pytest.raises(FeatureNotSupported, match=r"deprecated opt-out endpoint .* 'conversation' transport"):
        services.opt_out(conversation_bot, [ONE], deprecated_endpoint=True)
    assert fresh_sandbox.requests_log == [] and not Contact.objects.exists()
