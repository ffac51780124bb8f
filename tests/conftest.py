"""Shared fixtures: tenants, bots, a live Django server and the sandbox over real HTTP."""

from __future__ import annotations

import os

import pytest

from django_sinch_whatsapp.clients import clear_client_cache

# Every request SinchWhatsAppClient sends in the suite is checked against the Sinch contract.
pytest_plugins = [
    "tests.contract_plugin",
    "tests.conversation_helpers",
    "tests.transport_kits",
    "tests.api_error_sweep",
]

CALLBACK_KEY = "callback-signing-key-0123456789"
TOKEN = "sandbox-token-abcdef123456"


def pytest_collection_modifyitems(config, items):
    """Services that a test needs must be there in CI; locally a missing one skips with a reason."""
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        # nox deselects these on SQLite (-m "not postgres_only"); a plain local run skips them.
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL=postgres://...)"))
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    if in_ci:
        return
    checks = {"celery": _redis_reachable, "browser": _chromium_available}
    for marker, available in checks.items():
        reason = available()
        if reason is None:
            continue
        for item in items:
            if marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


def _redis_reachable() -> str | None:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return "Redis is not reachable on 127.0.0.1:6379 (it is in CI)"
    return None


def _chromium_available() -> str | None:
    import shutil

    if shutil.which("chromium") is None:
        return "Debian's chromium is not installed (CI installs it)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started only once the test database exists."""
    return live_server


@pytest.fixture(autouse=True)
def _fresh_clients():
    from django_sinch_whatsapp.ratelimit import clear_buckets

    clear_client_cache()
    clear_buckets()  # bot pks repeat between tests: no test inherits another's rate-limit bucket
    yield
    clear_client_cache()


@pytest.fixture
def organization(db):
    from tests.tenants.models import Organization

    return Organization.objects.create(name="Acme")


@pytest.fixture
def other_organization(db):
    from tests.tenants.models import Organization

    return Organization.objects.create(name="Globex")


@pytest.fixture
def api_user(db, organization, django_user_model):
    user = django_user_model.objects.create_user("alice", password="pw-alice")
    organization.members.add(user)
    return user


@pytest.fixture
def make_bot(db, organization):
    from django_sinch_whatsapp.models import Bot

    def make(**overrides):
        values = {
            "tenant": organization,
            "name": "Support",
            "sinch_bot_id": "support-bot",
            "bearer_token": TOKEN,
            "callback_key": CALLBACK_KEY,
            "region": "us",
        }
        values.update(overrides)
        return Bot.objects.create(**values)

    return make


@pytest.fixture
def bot(make_bot):
    return make_bot()


@pytest.fixture
def errored_message(bot):
    """A message Sinch refused with 401, as the admin and API must show it."""
    from django_sinch_whatsapp.models import MessageState, OutboundMessage

    return OutboundMessage.objects.create(
        bot=bot,
        recipient="46732001122",
        message_type="text",
        payload={"type": "text", "text": "hi"},
        state=MessageState.ERROR,
        error_status_code=401,
        error_message="Unauthorized",
        error_details="Invalid token",
    )


@pytest.fixture(scope="session")
def sandbox():
    """The Sinch stand-in over real HTTP on 127.0.0.1, one per test session."""
    from django_sinch_whatsapp.sandbox import SandboxServer

    server = SandboxServer(host="127.0.0.1", port=0, step_delay=0.01).start()
    yield server
    server.stop()


@pytest.fixture
def fresh_sandbox(sandbox):
    sandbox.reset()
    yield sandbox
    sandbox.reset()


@pytest.fixture
def sandbox_bot(make_bot, fresh_sandbox):
    """A bot whose Sinch is the sandbox; callbacks go nowhere unless a test registers a URL."""
    bot = make_bot(base_url_override=fresh_sandbox.region_url("us"))
    fresh_sandbox.register_bot(bot.sinch_bot_id, TOKEN, region="us", callback_key=CALLBACK_KEY)
    return bot


@pytest.fixture
def live_sandbox_bot(make_bot, fresh_sandbox, live_server):
    """A bot on the sandbox whose callbacks come back to the live Django server over HTTP."""
    bot = make_bot(base_url_override=fresh_sandbox.region_url("us"))
    fresh_sandbox.register_bot(
        bot.sinch_bot_id,
        TOKEN,
        region="us",
        callback_url=live_server.url + bot.callback_path,
        callback_key=CALLBACK_KEY,
    )
    yield bot
    # Reports still on their way to the live server would race the test database's flush (a deadlock
    # on PostgreSQL): let them land while the database is still there.
    fresh_sandbox.wait_for_callbacks(20)


def wait_for(predicate, timeout=10.0, interval=0.05):
    """Poll until ``predicate()`` is truthy; return its last value."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
