"""Schemathesis against the DRF API: every operation of the drf-spectacular schema, in-process over WSGI.

The schema is the one ``manage.py spectacular`` prints; requests go to Django's WSGI handler in this
process (``schema.app``), with HTTP Basic auth as alice. Each operation is its own test item on a fresh
database: alice's organization owns a bot on the local sandbox (with a contact, an outbound and an
inbound message) and another organization owns the same set. Path ids are drawn among alice's object,
the generated value and the other tenant's object; the schema's own examples go to alice's object.

Checks: no 5xx, documented status codes, content types, headers and bodies, auth enforced; and another
tenant's objects answer 404 and are never changed. Bounded and repeatable: examples and fuzzing phases
(positive and negative), at most ``MAX_EXAMPLES`` generated cases per operation, a fixed seed,
derandomized Hypothesis, no example database. Nothing leaves 127.0.0.1: both Sinch regions point at
the sandbox and any other connection is refused.
"""

from __future__ import annotations

import base64
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.wsgi import get_wsgi_application
from django.urls import Resolver404, resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.meta import TestPhase

from .conftest import CALLBACK_KEY, TOKEN

pytestmark = [pytest.mark.django_db(transaction=True)]

SEED = 20_250_611
MAX_EXAMPLES = 25
API_PREFIX = "/api/sinch-whatsapp/"
USERNAME, PASSWORD = "alice", "pw-alice"
ALICE_BASIC_AUTH = "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()


def openapi_schema() -> dict[str, Any]:
    """The schema ``manage.py spectacular`` prints, as plain JSON."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated))


CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "ignored_auth",
)
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none", "mode": "all"},
        # Coverage would add hundreds of boundary cases per body: examples and fuzzing stay bounded.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "auth": {"basic": {"username": USERNAME, "password": PASSWORD}},
        # What the schema can promise: no 5xx, documented statuses, media types, headers and bodies, and
        # auth enforced. Not positive/negative data acceptance: which numbers are valid, or whose tenant
        # an id is, is beyond what a schema can say.
        "checks": {
            "enabled": False,
            **{name: {"enabled": True} for name in CHECKS},
        },
    }
)
schema = schemathesis.openapi.from_dict(openapi_schema(), config=CONFIG)
schema.app = get_wsgi_application()


@dataclass
class KnownObjects:
    """Filled in per test: primary keys per collection (alice's, the other tenant's), alice's tenant, and a
    snapshot of the other tenant's data that no request of alice's may change."""

    mine: dict[str, Any] = field(default_factory=dict)
    theirs: dict[str, Any] = field(default_factory=dict)
    tenant: int | None = None
    their_state: tuple[Any, ...] = ()

    def clear(self) -> None:
        self.mine.clear()
        self.theirs.clear()
        self.tenant = None
        self.their_state = ()


KNOWN = KnownObjects()


def collection_of(path: str) -> str:
    """``/api/sinch-whatsapp/bots/{id}/send/`` -> ``bots``."""
    return path.removeprefix(API_PREFIX).split("/", 1)[0]


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> st.SearchStrategy:
    """Draw the id among alice's object, the generated value and the other tenant's object."""
    if not path_parameters or "id" not in path_parameters:
        return st.just(path_parameters)
    collection = collection_of(context.operation.path)

    def with_id(choice: int) -> dict[str, Any]:
        # alice's object first: the simplest draw (examples, shrinking) is the one the views act on.
        candidates = [KNOWN.mine.get(collection), path_parameters["id"], KNOWN.theirs.get(collection)]
        chosen = candidates[choice]
        return {**path_parameters, "id": path_parameters["id"] if chosen is None else chosen}

    return st.integers(min_value=0, max_value=2).map(with_id)


@schema.hook
def flatmap_body(context: Any, body: Any) -> st.SearchStrategy:
    """A bot body names alice's organization as often as a generated tenant, so bots get created and updated."""
    if not isinstance(body, dict) or "tenant" not in body or KNOWN.tenant is None:
        return st.just(body)
    return st.booleans().map(lambda generated: body if generated else {**body, "tenant": KNOWN.tenant})


@pytest.fixture
def loopback_only(monkeypatch):
    """Refuse every connection that is not to this machine (or the test database's host)."""
    allowed = {"127.0.0.1", "::1", "localhost"}
    database_host = django_settings.DATABASES["default"].get("HOST")
    if database_host:
        allowed.add(database_host)
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode()
        if host is not None and host not in allowed:
            raise socket.gaierror(f"tests/test_api_schemathesis.py: no network beyond 127.0.0.1 ({host})")
        return real_getaddrinfo(host, *args, **kwargs)

    def guarded_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in allowed:
            raise ConnectionRefusedError(f"tests/test_api_schemathesis.py: no network beyond 127.0.0.1 ({address})")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture
def api_world(loopback_only, settings, api_user, sandbox_bot, make_bot, other_organization, fresh_sandbox):
    """alice's bot on the sandbox and the other tenant's bot, each with a contact and messages."""
    from django_sinch_whatsapp.models import (
        Campaign,
        Contact,
        InboundMessage,
        MediaProvider,
        OutboundMessage,
        StatusEvent,
        Stickerpack,
    )

    # A bot whose base URL override is cleared must still reach the sandbox, never Sinch.
    settings.SINCH_WHATSAPP = {
        **settings.SINCH_WHATSAPP,
        "REGION_BASE_URLS": {"us": fresh_sandbox.region_url("us"), "eu": fresh_sandbox.region_url("eu")},
        "READ_TIMEOUT": 2.0,
        "RETRY_TOTAL": 0,
    }
    theirs = make_bot(
        tenant=other_organization, sinch_bot_id="their-bot", base_url_override=fresh_sandbox.region_url("us")
    )
    fresh_sandbox.register_bot(theirs.sinch_bot_id, TOKEN, region="us", callback_key=CALLBACK_KEY)

    def populate(bot) -> dict[str, Any]:
        # The contact wrote a minute ago: its 24-hour window is open, so session messages may go.
        contact = Contact.objects.create(
            bot=bot, number="+46732001122", profile_name="John Smith", last_inbound_at=timezone.now()
        )
        outbound = OutboundMessage.objects.create(
            bot=bot,
            contact=contact,
            recipient="46732001122",
            message_type="text",
            payload={"type": "text", "text": "hello"},
            sinch_message_id=f"out-{bot.pk}",
            state="delivered",
        )
        StatusEvent.objects.create(
            bot=bot, message=outbound, sinch_message_id=outbound.sinch_message_id, state="delivered"
        )
        inbound_id = fresh_sandbox.inject_inbound(bot.sinch_bot_id, "46732001122", text="hi")
        inbound = InboundMessage.objects.create(
            bot=bot,
            contact=contact,
            sinch_message_id=inbound_id,
            from_number="46732001122",
            from_e164="+46732001122",
            message_type="text",
            text="hi",
            content={"type": "text", "body": "hi"},
        )
        campaign = Campaign.objects.create(bot=bot, template_name="welcome")
        provider = MediaProvider.objects.create(bot=bot, name=f"cdn-{bot.pk}", kind="bearer")
        pack = Stickerpack.objects.create(bot=bot, sinch_id=f"pack-{bot.pk}", name="Cats", publisher="Acme")
        return {
            "bots": bot.pk,
            "contacts": contact.pk,
            "messages": outbound.pk,
            "inbound": inbound.pk,
            "campaigns": campaign.pk,
            "media-providers": provider.pk,
            "stickerpacks": pack.pk,
        }

    KNOWN.tenant = sandbox_bot.tenant_id
    KNOWN.mine.update(populate(sandbox_bot))
    KNOWN.theirs.update(populate(theirs))
    KNOWN.their_state = their_state(theirs.pk, fresh_sandbox)
    yield KNOWN
    KNOWN.clear()


def their_state(bot_pk: Any, sandbox: Any) -> tuple[Any, ...]:
    """What alice must never change: the other tenant's rows, and what their bot asked Sinch."""
    from django_sinch_whatsapp.models import Bot, Contact, InboundMessage, MediaProvider, OutboundMessage, Stickerpack

    return (
        list(Bot.objects.filter(pk=bot_pk).values()),
        list(Contact.objects.filter(bot_id=bot_pk).values()),
        list(InboundMessage.objects.filter(bot_id=bot_pk).values("pk", "read_at")),
        list(OutboundMessage.objects.filter(bot_id=bot_pk).values("pk", "state")),
        list(MediaProvider.objects.filter(bot_id=bot_pk).values()),
        list(Stickerpack.objects.filter(bot_id=bot_pk).values()),
        [entry for entry in sandbox.requests_log if "their-bot" in entry["path"]],
    )


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # The world is built once per operation on purpose: examples share it (a DELETE may remove the bot).
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
def test_api_conforms_to_its_schema(case, api_world, sandbox):
    try:
        resolve(case.formatted_path)
    except Resolver404:
        # A negative id such as "1.5" matches no URL: Django's (the project's) 404 page answers, not the API.
        response = case.call()
        assert response.status_code == 404, case.formatted_path
        return
    path_parameters = case.path_parameters or {}
    if case.meta is not None and case.meta.phase.name == TestPhase.EXAMPLES and "id" in path_parameters:
        # The schema's examples are bodies; the ids exist only per test: send them to alice's object.
        path_parameters["id"] = api_world.mine[collection_of(case.operation.path)]
    response = case.call_and_validate()
    as_alice = response.request.headers.get("Authorization") == ALICE_BASIC_AUTH
    path_id = str(path_parameters.get("id"))
    if as_alice and path_id == str(api_world.theirs.get(collection_of(case.operation.path))):
        assert response.status_code == 404, f"{case.method} {case.formatted_path}: another tenant's object"
    assert their_state(api_world.theirs["bots"], sandbox) == api_world.their_state, (
        f"{case.method} {case.formatted_path} changed another tenant's data"
    )
