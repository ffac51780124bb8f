"""A bot's base URL override cannot send its token anywhere but an allowed host.

Each crafted URL is tried twice: at save time (the validator the model, the
admin form and the API serializer share) and on the wire, written around
validation straight into the row, so the client's own check before every
request is what stands between the token and the host. A real socket listens
on 127.0.0.2 (the "attacker"); it must never see a connection, while the
sandbox on 127.0.0.1 is reached by the URLs that are allowed.
"""

from __future__ import annotations

import select
import socket
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError

from django_sinch_whatsapp.client.client import SinchWhatsAppClient
from django_sinch_whatsapp.client.retry import RetryPolicy
from django_sinch_whatsapp.client.targets import UnsafeRequestTarget, check_target, parse_target
from django_sinch_whatsapp.clients import client_for_bot
from django_sinch_whatsapp.conf import DEFAULTS
from django_sinch_whatsapp.exceptions import SinchAPIError, SinchUnavailable
from django_sinch_whatsapp.models import Bot, validate_base_url_override
from tests.conftest import TOKEN

REFUSED = "refused"  # refused at save time and by the client, nothing connects
SANDBOX = "sandbox"  # allowed: the request reaches the sandbox on 127.0.0.1
LOOPBACK6 = "loopback6"  # allowed (::1): nothing listens there, the request fails without reaching the trap

#: (url template, expected). {port} is the sandbox on 127.0.0.1, {trap} the listener on 127.0.0.2.
CRAFTED = [
    ("http://127.0.0.2:{trap}\\@127.0.0.1:{port}/us1", REFUSED),  # urllib3 ends the host at the backslash
    ("http://127.0.0.1:{port}\\@127.0.0.2:{trap}/us1", REFUSED),
    ("http://127.0.0.1:{port}@127.0.0.2:{trap}/us1", REFUSED),  # userinfo
    ("http://user:pw@127.0.0.1:{port}/us1", REFUSED),  # userinfo even in front of an allowed host
    ("http://[::1]@127.0.0.2:{trap}/us1", REFUSED),
    ("http://127.0.0.2:{trap}/us1", REFUSED),  # a plain host that is not listed
    ("https://127.0.0.2:{trap}/us1", REFUSED),
    ("http://127.2:{trap}/us1", REFUSED),  # inet_aton shorthand for 127.0.0.2
    ("http://127.1:{port}/us1", REFUSED),  # shorthand for an allowed address: not written as listed
    ("http://2130706434:{trap}/us1", REFUSED),  # decimal 127.0.0.2
    ("http://0177.0.0.2:{trap}/us1", REFUSED),  # octal
    ("http://017700000002:{trap}/us1", REFUSED),  # octal, one number
    ("http://0x7f.0.0.2:{trap}/us1", REFUSED),  # hexadecimal
    ("http://0x7f000002:{trap}/us1", REFUSED),
    ("http://[::ffff:127.0.0.2]:{trap}/us1", REFUSED),  # IPv4-mapped IPv6
    ("http://[::ffff:7f00:2]:{trap}/us1", REFUSED),
    ("http://[::127.0.0.2]:{trap}/us1", REFUSED),
    ("http://127.0.0.2.:{trap}/us1", REFUSED),  # trailing dot
    ("http://localhost.:{port}/us1", REFUSED),
    ("http://%31%32%37.0.0.2:{trap}/us1", REFUSED),  # urllib3 percent-decodes hosts, urllib.parse does not
    ("http://127.0.0.1%40127.0.0.2:{trap}/us1", REFUSED),
    ("http://\uff11\uff12\uff17.\uff10.\uff10.\uff12:{trap}/us1", REFUSED),  # full-width digits (IDNA maps them)
    ("http://\u24dbocalhost:{port}/us1", REFUSED),  # a circled letter IDNA would fold to "localhost"
    ("http://xn--lcalhost-9o0c:{port}/us1", REFUSED),  # punycode is a different name
    ("http://127.0.0.1\t:{port}/us1", REFUSED),  # control characters
    ("http://127.0.0.1 @127.0.0.2:{trap}/us1", REFUSED),
    ("http://127.0.0.1:{port}:{trap}/us1", REFUSED),  # two ports
    ("http://127.0.0.1:99999/us1", REFUSED),  # impossible port
    ("ftp://127.0.0.1:{port}/us1", REFUSED),
    ("http://0.0.0.0:{trap}/us1", REFUSED),
    (
        "http://127.0.0.1:{port}#@127.0.0.2:{trap}/us1",
        REFUSED,
    ),  # both parsers read 127.0.0.1, but the path would be lost
    ("http://127.0.0.1:{port}?@127.0.0.2:{trap}/us1", REFUSED),
    ("http://127.0.0.1:{port}/us1", SANDBOX),
    ("http://LOCALHOST:{port}/us1", SANDBOX),  # host names compare case-insensitively
    ("http://127.0.0.1:{port}/us1/", SANDBOX),
    ("http://[::1]:{port}/us1", LOOPBACK6),
    ("http://[0:0:0:0:0:0:0:1]:{port}/us1", LOOPBACK6),  # the same address, written in full
]


@pytest.fixture
def trap():
    """A listening socket on 127.0.0.2: any connection to it is a token sent to the wrong host."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.2", 0))
    listener.listen(16)
    listener.setblocking(False)
    yield listener
    listener.close()


def connections(listener: socket.socket, wait: float = 0.1) -> int:
    """How many connections reached ``listener`` (accepted and closed)."""
    count = 0
    while select.select([listener], [], [], wait)[0]:
        conn, _ = listener.accept()
        conn.close()
        count += 1
        wait = 0.05
    return count


def fill(template: str, sandbox, trap: socket.socket) -> str:
    port = urlsplit(sandbox.base_url).port
    return template.format(port=port, trap=trap.getsockname()[1])


def test_the_table_is_big_enough_and_the_trap_can_see_a_connection(trap):
    assert len(CRAFTED) >= 20
    # The trap works: a client with no allow-list at all does reach it (with the token).
    unchecked = SinchWhatsAppClient(
        "support-bot", TOKEN, f"http://127.0.0.2:{trap.getsockname()[1]}", read_timeout=0.5, retry=RetryPolicy(total=0)
    )
    with pytest.raises(SinchAPIError):
        unchecked.capability(["46732001122"])
    assert connections(trap) == 1


@pytest.mark.parametrize(("template", "expected"), CRAFTED, ids=[t for t, _ in CRAFTED])
def test_crafted_override_urls(template, expected, trap, fresh_sandbox, make_bot):
    url = fill(template, fresh_sandbox, trap)
    # Save time: the validator the model's clean(), the admin form and the API serializer call.
    if expected == REFUSED:
        with pytest.raises(ValidationError) as refused:
            validate_base_url_override(url)
        assert "base_url_override" in refused.value.message_dict
    else:
        validate_base_url_override(url)

    # On the wire: the row is written around validation; the client checks again before each request.
    fresh_sandbox.register_bot("support-bot", TOKEN, region="us")
    bot = make_bot()
    Bot.objects.filter(pk=bot.pk).update(base_url_override=url)
    bot.refresh_from_db()
    before = len(fresh_sandbox.requests_log)
    if expected == REFUSED:
        with pytest.raises(UnsafeRequestTarget) as refused_on_wire:
            client_for_bot(bot).capability(["46732001122"])
        assert TOKEN not in str(refused_on_wire.value) and TOKEN not in repr(refused_on_wire.value)
        assert len(fresh_sandbox.requests_log) == before
    elif expected == LOOPBACK6:
        with pytest.raises(SinchUnavailable):
            client_for_bot(bot).capability(["46732001122"])
    else:
        try:
            client_for_bot(bot).capability(["46732001122"])
        except SinchAPIError as err:
            assert not isinstance(err, UnsafeRequestTarget)
        assert len(fresh_sandbox.requests_log) == before + 1
    assert connections(trap) == 0


def test_by_default_no_override_is_allowed(settings, trap, fresh_sandbox, make_bot):
    assert DEFAULTS["BASE_URL_OVERRIDE_HOSTS"] == ()
    settings.SINCH_WHATSAPP = {k: v for k, v in settings.SINCH_WHATSAPP.items() if k != "BASE_URL_OVERRIDE_HOSTS"}
    url = fresh_sandbox.region_url("us")
    with pytest.raises(ValidationError, match="switched off"):
        validate_base_url_override(url)
    bot = make_bot()
    Bot.objects.filter(pk=bot.pk).update(base_url_override=url)
    bot.refresh_from_db()
    with pytest.raises(UnsafeRequestTarget, match="switched off"):
        client_for_bot(bot).capability(["46732001122"])
    assert fresh_sandbox.requests_log == []


def test_the_region_hosts_are_not_limited_by_the_override_list_but_must_still_be_plain():
    assert parse_target("https://us1.whatsapp.api.sinch.com/whatsapp/v1/x").host == "us1.whatsapp.api.sinch.com"
    assert check_target("https://EU1.whatsapp.api.sinch.com/", None).host == "eu1.whatsapp.api.sinch.com"
    with pytest.raises(UnsafeRequestTarget):
        check_target("https://us1.whatsapp.api.sinch.com\\@evil.example/", None)


def test_the_api_and_the_admin_name_the_field(api_client_for_alice, bot):
    response = api_client_for_alice.patch(
        f"/api/sinch-whatsapp/bots/{bot.pk}/",
        {"base_url_override": "http://127.0.0.2:18450\\@127.0.0.1:18409/us1", "bearer_token": "t"},
        format="json",
    )
    assert response.status_code == 400
    assert "backslash" in str(response.json()["error"]["fields"]["base_url_override"])
    bot.refresh_from_db()
    assert bot.base_url_override == ""


@pytest.fixture
def api_client_for_alice(api_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(api_user)
    return client
