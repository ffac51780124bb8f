"""The token and the signing key appear nowhere a person or a log can see them.

One flow touches every surface (API, admin, DEBUG logs of every logger,
exception texts and reprs) with a wrong and a right secret, and greps for
the secrets and their ciphertext; once per transport (the bearer token, or the
access key secret and the OAuth tokens issued for it).
"""

from __future__ import annotations

import logging

import django
import pytest
from django.db import connection
from rest_framework.test import APIClient

from django_sinch_whatsapp.clients import client_for_bot
from django_sinch_whatsapp.exceptions import SinchAPIError
from django_sinch_whatsapp.models import Bot, OutboundMessage

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "tok-VERY-secret-0b5e7a"
WRONG_TOKEN = "tok-WRONG-secret-99d1c"
KEY = "key-VERY-secret-4c2f8e"


def _bots(kit, make_bot, sandbox):
    """A bot Sinch accepts and one with a wrong secret, both signing with KEY, on the sandbox."""
    if kit.name == "whatsapp":
        url = sandbox.region_url("us")
        good = make_bot(sinch_bot_id="good", bearer_token=TOKEN, callback_key=KEY, base_url_override=url)
        bad = make_bot(sinch_bot_id="bad", bearer_token=WRONG_TOKEN, callback_key=KEY, base_url_override=url)
        sandbox.register_bot("good", TOKEN, region="us", callback_key=KEY)
        sandbox.register_bot("bad", TOKEN, region="us", callback_key=KEY)
        return good, bad, (TOKEN, WRONG_TOKEN)
    from .conversation_helpers import APP, KEY_ID, PROJECT, conversation_bot_values

    sandbox.conversation.register_key(KEY_ID, TOKEN, project_id=PROJECT)
    sandbox.conversation.register_app(PROJECT, APP, region="us")
    good = make_bot(**conversation_bot_values(sandbox, name="Good", key_secret=TOKEN, callback_key=KEY))
    bad = make_bot(**conversation_bot_values(sandbox, name="Bad", key_secret=WRONG_TOKEN, callback_key=KEY))
    return good, bad, (TOKEN, WRONG_TOKEN)


def test_secrets_never_leak(kit, admin_client, api_user, make_bot, fresh_sandbox, caplog, client):
    from django.core.cache import caches

    from django_sinch_whatsapp import services
    from django_sinch_whatsapp.clients import transport_for_bot

    caches["default"].clear()
    good, bad, typed = _bots(kit, make_bot, fresh_sandbox)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {kit.secret_field}, callback_key FROM sinch_whatsapp_bot")
        ciphertexts = [value for row in cursor.fetchall() for value in row if value]
    seen: list[str] = []

    api = APIClient()
    api.force_authenticate(api_user)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("django_sinch_whatsapp").setLevel(logging.DEBUG)
        # Sends: one accepted, one refused with 401; HTTP logging on.
        from django.conf import settings
        from django.test import override_settings

        with override_settings(SINCH_WHATSAPP={**settings.SINCH_WHATSAPP, "LOG_HTTP": True}):
            for bot in (good, bad):
                response = api.post(
                    f"/api/sinch-whatsapp/bots/{bot.pk}/send/",
                    {"to": ["46732001122"], "text": "hi", "allow_outside_window": True},
                    format="json",
                )
                seen.append(response.content.decode())
            [failed] = services.opt_in(bad, ["46732001122"]).failed  # refused with 401: the error's texts
            seen += [str(failed.error), repr(failed.error), str(failed.error.as_dict())]
            transport = transport_for_bot(good)
            seen += [repr(transport), repr(transport.client), repr(vars(transport.client))]
            seen.append(repr(getattr(transport.client, "_session", None) and transport.client._session.auth))
            if hasattr(transport.client, "tokens"):  # the OAuth token provider and its access key
                seen += [repr(transport.client.tokens), repr(transport.client.tokens.key)]
        body = kit.inbound_body("in-1")
        assert kit.post(client, good, body, key=KEY).status_code == 200
        for path in (
            "/api/sinch-whatsapp/bots/",
            f"/api/sinch-whatsapp/bots/{good.pk}/",
            "/api/sinch-whatsapp/messages/",
        ):
            seen.append(api.get(path).content.decode())
        for path in (
            "/admin/sinch_whatsapp/bot/",
            f"/admin/sinch_whatsapp/bot/{good.pk}/change/",
            f"/admin/sinch_whatsapp/bot/{bad.pk}/change/",
            "/admin/sinch_whatsapp/outboundmessage/",
            f"/admin/sinch_whatsapp/outboundmessage/{OutboundMessage.objects.filter(bot=bad).get().pk}/change/",
            "/admin/sinch_whatsapp/callbackevent/",
        ):
            response = admin_client.get(path)
            assert response.status_code == 200, path
            seen.append(response.content.decode())
    fresh = Bot.objects.get(pk=good.pk)
    secret = getattr(fresh, kit.secret_field)
    seen += [str(fresh), repr(fresh), repr(vars(fresh)), str(secret), repr(secret), repr(fresh.callback_key)]
    seen.append(caplog.text)
    assert '"sinch_status":401' in "".join(seen)  # the refused send was really exercised
    # And HTTP logging really ran (the standalone client logs its headers, the Authorization starred).
    assert ("Bearer ********" if kit.name == "whatsapp" else "Sinch request POST") in caplog.text
    # The OAuth tokens the sandbox issued are secrets too.
    issued = list(fresh_sandbox.conversation.state.tokens)
    assert bool(issued) == (kit.name == "conversation")
    haystack = "\n".join(seen)
    for value in (*typed, KEY, *ciphertexts, *issued):
        assert value not in haystack
    # The error text people see still says what went wrong.
    row = OutboundMessage.objects.get(bot=bad)
    assert row.error_status_code == 401 and row.error_message


def test_http_log_hides_media_provider_credentials(sandbox_bot, fresh_sandbox, settings, caplog):
    from django_sinch_whatsapp import services as svc

    settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, "LOG_HTTP": True}
    with caplog.at_level(logging.DEBUG, logger="django_sinch_whatsapp"):
        svc.add_media_provider(sandbox_bot, "files_basic", username="user", password="pw-VERY-secret-1")
        svc.add_media_provider(sandbox_bot, "files_bearer", bearer="bearer-VERY-secret-2")
        svc.sync_media_providers(sandbox_bot)  # GET answers carry the credentials back
    assert "files_basic" in caplog.text and "********" in caplog.text
    assert "pw-VERY-secret-1" not in caplog.text and "bearer-VERY-secret-2" not in caplog.text


# -- error reports: Django's email to ADMINS (text and HTML), with DEBUG off ---------------------------

NEW_TOKEN = "tok-TYPED-secret-71aa3f"
NEW_KEY = "key-TYPED-secret-2d9b0c"
TYPED = {"bearer_token": NEW_TOKEN, "callback_key": NEW_KEY, "previous_callback_key": "key-PREV-secret-5e1f"}


@pytest.fixture
def error_mail(settings, mailoutbox, monkeypatch):
    """Django's own mail_admins handler, with the HTML report attached as well as the text one."""
    from django.utils.log import AdminEmailHandler

    settings.DEBUG = False
    # Django 6.0 takes addresses; (name, address) pairs are deprecated there and the only form before.
    settings.ADMINS = ["ops@example.com"] if django.VERSION >= (6, 0) else [("Ops", "ops@example.com")]
    handlers = [h for h in logging.getLogger("django").handlers if isinstance(h, AdminEmailHandler)]
    assert handlers, "Django's default mail_admins handler is not installed"
    for handler in handlers:
        monkeypatch.setattr(handler, "include_html", True)
    return mailoutbox


def _report_texts(outbox) -> tuple[str, str]:
    assert len(outbox) == 1, [m.subject for m in outbox]
    email = outbox[0]
    html = [content for content, mimetype in email.alternatives if mimetype == "text/html"]
    assert html, "no HTML report attached"
    return email.body, html[0]


def _fail_saving_bots(monkeypatch):
    def boom(self, *args, **kwargs):
        raise RuntimeError("forced failure while saving a bot")

    monkeypatch.setattr(Bot, "save", boom)


def _fail_inside_urllib3(monkeypatch):
    """Raise where urllib3 writes the request: the headers (with Authorization) are a local of that frame."""
    import urllib3.connection

    def boom(self, method, url, body=None, headers=None, **kwargs):
        raise RuntimeError("forced failure while sending to Sinch")

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "request", boom)


def _admin_add(admin_client, bot, organization):
    data = {"tenant": organization.pk, "name": "New", "sinch_bot_id": "new-bot", "region": "us", "is_active": "on"}
    return admin_client.post("/admin/sinch_whatsapp/bot/add/", {**data, **TYPED, "base_url_override": ""})


def _admin_change(admin_client, bot, organization):
    data = {"tenant": organization.pk, "name": bot.name, "sinch_bot_id": bot.sinch_bot_id, "region": "eu"}
    return admin_client.post(f"/admin/sinch_whatsapp/bot/{bot.pk}/change/", {**data, **TYPED, "is_active": "on"})


def _api(admin_user):
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(admin_user)
    return api


def _api_create_form(api, bot, organization):
    data = {"tenant": organization.pk, "name": "New", "sinch_bot_id": "new-bot", "region": "us"}
    return api.post("/api/sinch-whatsapp/bots/", {**data, **TYPED})  # form-encoded


def _api_create_json(api, bot, organization):
    data = {"tenant": organization.pk, "name": "New", "sinch_bot_id": "new-bot", "region": "us"}
    return api.post("/api/sinch-whatsapp/bots/", {**data, **TYPED}, format="json")


def _api_put_form(api, bot, organization):
    data = {"tenant": organization.pk, "name": bot.name, "sinch_bot_id": bot.sinch_bot_id, "region": "eu"}
    return api.put(f"/api/sinch-whatsapp/bots/{bot.pk}/", {**data, **TYPED}, format="multipart")


def _api_patch_json(api, bot, organization):
    return api.patch(f"/api/sinch-whatsapp/bots/{bot.pk}/", {"region": "eu", **TYPED}, format="json")


@pytest.mark.parametrize(
    "submit",
    [_admin_add, _admin_change, _api_create_form, _api_create_json, _api_put_form, _api_patch_json],
    ids=lambda f: f.__name__.lstrip("_"),
)
def test_error_emails_of_the_bot_forms_hide_the_typed_secrets(
    submit, error_mail, monkeypatch, client, api_user, organization, make_bot, django_user_model
):
    bot = make_bot(bearer_token=TOKEN, callback_key=KEY)
    user = django_user_model.objects.create_superuser("root", password="pw-root")
    organization.members.add(user)
    _fail_saving_bots(monkeypatch)
    if submit.__name__.startswith("_admin"):
        client.raise_request_exception = False
        client.force_login(user)
        response = submit(client, bot, organization)
    else:
        response = submit(_api(user), bot, organization)
    assert response.status_code == 500
    text, html = _report_texts(error_mail)
    assert "forced failure while saving a bot" in text and "forced failure while saving a bot" in html
    # The reports really carry the request and the frames, with the secrets starred.
    if not submit.__name__.endswith("json"):
        assert "bearer_token" in text  # the POST section lists the field, starred
    assert "Local vars" in html or "Local Vars" in html
    for secret in (NEW_TOKEN, NEW_KEY, TYPED["previous_callback_key"], TOKEN, KEY):
        assert secret not in text, secret
        assert secret not in html, secret


def _admin_verify_credentials(client, api, bot):
    return client.post(
        "/admin/sinch_whatsapp/bot/", {"action": "verify_credentials", "_selected_action": [bot.pk], "index": 0}
    )


def _api_opt_in(client, api, bot):
    return api.post(f"/api/sinch-whatsapp/bots/{bot.pk}/opt-in/", {"numbers": ["46732001122"]}, format="json")


@pytest.mark.parametrize("call", [_admin_verify_credentials, _api_opt_in], ids=lambda f: f.__name__.lstrip("_"))
def test_error_emails_of_calls_to_sinch_hide_the_authorization_header(
    call, error_mail, monkeypatch, client, organization, make_bot, fresh_sandbox, django_user_model
):
    bot = make_bot(bearer_token=TOKEN, callback_key=KEY, base_url_override=fresh_sandbox.region_url("us"))
    user = django_user_model.objects.create_superuser("root", password="pw-root")
    organization.members.add(user)
    client.raise_request_exception = False
    client.force_login(user)
    _fail_inside_urllib3(monkeypatch)
    response = call(client, _api(user), bot)
    assert response.status_code == 500
    text, html = _report_texts(error_mail)
    assert "forced failure while sending to Sinch" in html
    # The frame that failed had the request headers as a local: shown, with the token redacted.
    assert "Bearer ********" in html
    for secret in (TOKEN, KEY):
        assert secret not in text and secret not in html


def test_frames_of_a_failed_request_never_hold_the_token_in_a_readable_form(monkeypatch, make_bot, fresh_sandbox):
    """What an error tracker keeping frame variables would store: repr() of every local of every frame."""
    bot = make_bot(bearer_token=TOKEN, base_url_override=fresh_sandbox.region_url("us"))
    _fail_inside_urllib3(monkeypatch)
    with pytest.raises(RuntimeError) as failed:
        client_for_bot(bot).capability(["46732001122"])
    shown = []
    tb = failed.value.__traceback__
    while tb is not None:
        shown += [f"{name}={value!r}" for name, value in tb.tb_frame.f_locals.items()]
        tb = tb.tb_next
    assert any("Bearer ********" in line for line in shown)
    assert not [line for line in shown if TOKEN in line]
    assert len(shown) > 20  # the frames were really walked


# -- the sandbox's control API --------------------------------------------------------------------------


def test_the_sandbox_control_api_never_returns_a_token(sandbox_bot, fresh_sandbox, make_bot):
    import requests

    from .conftest import TOKEN as SANDBOX_TOKEN

    wrong = make_bot(sinch_bot_id=sandbox_bot.sinch_bot_id + "-x", bearer_token=WRONG_TOKEN)
    Bot.objects.filter(pk=wrong.pk).update(base_url_override=fresh_sandbox.region_url("us"))
    fresh_sandbox.register_bot(wrong.sinch_bot_id, SANDBOX_TOKEN, region="us")
    client_for_bot(sandbox_bot).capability(["46732001122"])
    with pytest.raises(SinchAPIError):
        client_for_bot(Bot.objects.get(pk=wrong.pk)).capability(["46732001122"])
    control = f"{fresh_sandbox.base_url}/_sandbox"
    answers = [requests.get(f"{control}/{path}", timeout=5) for path in ("requests", "bots", "callbacks", "messages")]
    answers.append(requests.get(f"{control}/", timeout=5))
    for answer in answers:
        assert answer.status_code == 200
        assert SANDBOX_TOKEN not in answer.text and WRONG_TOKEN not in answer.text
    recorded = answers[0].json()["requests"]
    assert [entry["headers"]["Authorization"] for entry in recorded] == ["Bearer ***", "Bearer ***"]
    assert [entry["token_matched"] for entry in recorded] == [True, False]
    # The in-process log is the same redacted record.
    assert SANDBOX_TOKEN not in repr(fresh_sandbox.requests_log)
