"""The DRF API: tenant scoping, write-only secrets, sending, Sinch errors as responses."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from django_sinch_whatsapp.models import Bot, MessageState, OutboundMessage, StatusEvent

from .conftest import CALLBACK_KEY, TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api_user):
    client = APIClient()
    client.force_authenticate(api_user)
    return client


def test_anonymous_is_refused(bot):
    assert APIClient().get("/api/sinch-whatsapp/bots/").status_code in (401, 403)


def test_bot_list_is_scoped_and_never_shows_secrets(api, bot, make_bot, other_organization):
    make_bot(tenant=other_organization, sinch_bot_id="theirs")
    response = api.get("/api/sinch-whatsapp/bots/")
    assert response.status_code == 200
    assert [b["sinch_bot_id"] for b in response.json()["results"]] == ["support-bot"]
    text = response.content.decode()
    assert TOKEN not in text and CALLBACK_KEY not in text and "gAAAA" not in text
    assert response.json()["results"][0]["has_callback_key"] is True


def test_other_tenants_bot_is_404(api, make_bot, other_organization):
    theirs = make_bot(tenant=other_organization, sinch_bot_id="theirs")
    assert api.get(f"/api/sinch-whatsapp/bots/{theirs.pk}/").status_code == 404
    assert (
        api.post(
            f"/api/sinch-whatsapp/bots/{theirs.pk}/send/", {"to": ["46732001122"], "text": "x"}, format="json"
        ).status_code
        == 404
    )


def test_create_bot_with_write_only_secrets(api, organization):
    response = api.post(
        "/api/sinch-whatsapp/bots/",
        {
            "tenant": organization.pk,
            "name": "New",
            "sinch_bot_id": "new-bot",
            "region": "eu",
            "bearer_token": "tok-123",
            "callback_key": "key-456",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert "tok-123" not in response.content.decode() and "key-456" not in response.content.decode()
    bot = Bot.objects.get(sinch_bot_id="new-bot")
    assert bot.bearer_token.reveal() == "tok-123" and bot.region == "eu"


def test_create_bot_for_another_tenant_is_refused(api, other_organization):
    response = api.post(
        "/api/sinch-whatsapp/bots/",
        {"tenant": other_organization.pk, "name": "X", "sinch_bot_id": "x", "bearer_token": "t"},
        format="json",
    )
    assert response.status_code == 400
    assert "tenant" in response.json()["error"]["fields"]


def test_update_without_token_keeps_it(api, bot):
    response = api.patch(f"/api/sinch-whatsapp/bots/{bot.pk}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    bot.refresh_from_db()
    assert bot.name == "Renamed" and bot.bearer_token.reveal() == TOKEN


def test_invalid_message_is_400_naming_field_and_limit(api, bot):
    response = api.post(
        f"/api/sinch-whatsapp/bots/{bot.pk}/send/", {"to": ["46732001122"], "text": "x" * 4097}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "message.text" and error["limit"] == 4096 and error["actual"] == 4097
    assert OutboundMessage.objects.count() == 0


def test_messages_list_is_scoped_with_constant_queries(
    api, bot, make_bot, other_organization, django_assert_num_queries
):
    theirs = make_bot(tenant=other_organization, sinch_bot_id="theirs")

    def add(count, owner, start=0):
        for i in range(start, start + count):
            message = OutboundMessage.objects.create(
                bot=owner,
                recipient=f"4673200{i:04d}",
                message_type="text",
                payload={"type": "text", "text": "x"},
                sinch_message_id=f"{owner.pk}-{i}",
                state=MessageState.DELIVERED,
            )
            StatusEvent.objects.create(
                bot=owner, message=message, sinch_message_id=message.sinch_message_id, state="queued"
            )

    add(2, bot)
    add(3, theirs)
    with django_assert_num_queries(3):  # tenants, messages (+bot), history
        response = api.get("/api/sinch-whatsapp/messages/")
    assert len(response.json()["results"]) == 2
    add(20, bot, start=2)
    with django_assert_num_queries(3):
        response = api.get("/api/sinch-whatsapp/messages/")
    assert len(response.json()["results"]) == 22
    assert all(m["history"][0]["state"] == "queued" for m in response.json()["results"])


def test_base_url_override_to_a_foreign_host_is_refused(api, bot):
    response = api.patch(
        f"/api/sinch-whatsapp/bots/{bot.pk}/",
        {"base_url_override": "https://attacker.example/", "bearer_token": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert "not an allowed override host" in str(response.json()["error"]["fields"]["base_url_override"])
    bot.refresh_from_db()
    assert bot.base_url_override == ""


def test_moving_a_bot_needs_the_token_again(api, bot):
    response = api.patch(
        f"/api/sinch-whatsapp/bots/{bot.pk}/", {"base_url_override": "http://127.0.0.1:9/us1"}, format="json"
    )
    assert response.status_code == 400 and "bearer_token" in response.json()["error"]["fields"]
    response = api.patch(f"/api/sinch-whatsapp/bots/{bot.pk}/", {"region": "eu"}, format="json")
    assert response.status_code == 400 and "bearer_token" in response.json()["error"]["fields"]
    response = api.patch(
        f"/api/sinch-whatsapp/bots/{bot.pk}/", {"region": "eu", "bearer_token": "eu-token"}, format="json"
    )
    assert response.status_code == 200
    bot.refresh_from_db()
    assert bot.region == "eu" and bot.bearer_token.reveal() == "eu-token"


def test_non_numeric_filters_are_400_not_500(api, bot):
    for path in (
        "/api/sinch-whatsapp/messages/?bot=abc",
        "/api/sinch-whatsapp/contacts/?bot=abc",
        "/api/sinch-whatsapp/inbound/?bot=x",
    ):
        assert api.get(path).status_code == 400, path


def test_out_of_range_bot_filter_is_400_not_500(api, bot):
    # Found by schemathesis: int() accepts it, the database driver does not (SQLite OverflowError).
    for value in (2**63, -(2**70), 10**40):
        for path in ("/api/sinch-whatsapp/messages/", "/api/sinch-whatsapp/contacts/", "/api/sinch-whatsapp/inbound/"):
            response = api.get(path, {"bot": str(value)})
            assert response.status_code == 400, (path, value)
            assert response.json()["error"]["fields"] == {"bot": ["must be a whole number"]}
    assert api.get("/api/sinch-whatsapp/messages/", {"bot": str(2**63 - 1)}).status_code == 200


def test_nul_in_text_filters_is_400_not_500(api, bot):
    # PostgreSQL refuses NUL in text parameters (DataError): a 500 there before.
    assert api.get("/api/sinch-whatsapp/contacts/?number=%2B4673%00").status_code == 400
    assert api.get("/api/sinch-whatsapp/messages/?state=queued%00").status_code == 400
    assert api.get("/api/sinch-whatsapp/messages/?state=queued").status_code == 200


def _cursor(raw):
    import base64

    return base64.b64encode(raw.encode()).decode()


def test_tampered_cursor_is_404_not_500(api, bot):
    # A cursor's position reached the query unchecked: no timestamp raised Django's ValidationError,
    # an offset beyond +-15:59 a PostgreSQL DataError.
    for raw in ("p=garbage", "r=1&p=2020-13-45", "p=0001-01-01T00:00:00+23:59", "p=2020-01-01T00:00:00"):
        for path in ("/api/sinch-whatsapp/messages/", "/api/sinch-whatsapp/contacts/", "/api/sinch-whatsapp/inbound/"):
            response = api.get(path, {"cursor": _cursor(raw)})
            assert response.status_code == 404, (path, raw)
            assert response.json()["error"] == {"code": "not_found", "message": "Invalid cursor"}
    assert api.get("/api/sinch-whatsapp/messages/", {"cursor": _cursor("p=2020-01-01T00:00:00Z")}).status_code == 200


def test_cursor_pages_still_follow_each_other(api, bot):
    for i in range(3):
        OutboundMessage.objects.create(
            bot=bot, recipient=f"4673200112{i}", message_type="text", payload={"type": "text", "text": "x"}
        )
    first = api.get("/api/sinch-whatsapp/messages/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1 and second["next"] is None
    assert {m["id"] for m in first["results"] + second["results"]} == {
        str(pk) for pk in OutboundMessage.objects.values_list("pk", flat=True)
    }


def test_json_body_nested_too_deeply_is_400_not_500(api, bot):
    # DRF's JSONParser let Python's RecursionError through.
    body = "[" * 5000 + "]" * 5000
    response = api.post(f"/api/sinch-whatsapp/bots/{bot.pk}/opt-in/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "parse_error", "message": "JSON parse error - nested too deeply"}


def test_form_body_over_django_limits_is_json_not_an_html_page(api, bot, settings):
    # Found by schemathesis: Django's own limits raised past DRF and answered Django's HTML 400 page.
    from urllib.parse import urlencode

    path = f"/api/sinch-whatsapp/bots/{bot.pk}/opt-in/"
    fields = urlencode([("numbers", "46732001122")] * (settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    response = api.post(path, fields, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert "DATA_UPLOAD_MAX_NUMBER_FIELDS" in response.json()["error"]["message"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api.post(path, {"numbers": ["4" * 200]}, format="multipart")
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "body_too_large"


def test_message_with_nul_character_is_400_not_500(api, bot):
    # PostgreSQL's jsonb refuses \u0000: storing the payload was a 500 there.
    response = api.post(
        f"/api/sinch-whatsapp/bots/{bot.pk}/send/",
        {"to": ["46732001122"], "message": {"type": "text", "text": "a\x00b"}, "allow_outside_window": True},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"message": ["Null characters are not allowed."]}
    assert OutboundMessage.objects.count() == 0


def test_override_with_an_impossible_port_is_refused(api, bot):
    response = api.patch(
        f"/api/sinch-whatsapp/bots/{bot.pk}/",
        {"base_url_override": "http://127.0.0.1:99999/us1", "bearer_token": "t"},
        format="json",
    )
    assert response.status_code == 400 and "port" in str(response.json()["error"]["fields"]["base_url_override"])
