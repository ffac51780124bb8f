"""One error shape for every 4xx/5xx of the API: every route driven with bad input, and the schema says so.

``tests/api_error_sweep.py`` checks the shape of every error answer any test of the suite provokes; here
every route of the router is provoked on purpose (no credentials, a missing object, an empty body, a
wrong media type, a method it lacks), so a new route is swept without a new line.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from django_sinch_whatsapp.api.errors import flatten_fields
from django_sinch_whatsapp.api.urls import router

from .api_error_sweep import shape_problems

pytestmark = pytest.mark.django_db

NAMESPACE = "sinch_whatsapp_api"


def _routes():
    for _prefix, viewset, basename in router.registry:
        for route in router.get_routes(viewset):
            methods = {m for m, a in route.mapping.items() if hasattr(viewset, a)}
            if methods:
                yield route.name.format(basename=basename), route.detail, methods


def test_every_route_answers_bad_input_in_the_one_error_shape(api_user, bot, api_error_sweep):
    anonymous, api = APIClient(), APIClient()
    api.force_authenticate(api_user)
    provoked: set[int] = set()
    for name, detail, methods in _routes():
        url = reverse(f"{NAMESPACE}:{name}", kwargs={"pk": 2**40} if detail else None)
        mine = reverse(f"{NAMESPACE}:{name}", kwargs={"pk": bot.pk} if detail else None)
        for method in methods:
            provoked.add(getattr(anonymous, method)(mine, {}, format="json").status_code)
            if detail:
                assert getattr(api, method)(url, {}, format="json").status_code == 404, (method, url)
            if method in ("post", "put", "patch"):
                empty = getattr(api, method)(mine, {}, format="json")
                # 415: a route that reads only multipart (the campaign upload) refuses JSON outright.
                assert empty.status_code in (200, 400, 404, 415), (method, mine)
                if empty.status_code == 400:  # a route that reads a body refuses another media type
                    wrong = getattr(api, method)(mine, "<a/>", content_type="application/xml")
                    assert wrong.status_code == 415, (method, mine)
        if "delete" not in methods:
            assert api.delete(mine).status_code == 405, mine
        assert api.get(mine, HTTP_ACCEPT="image/png").status_code in (200, 404, 405, 406)
    assert provoked <= {401, 403} and provoked
    # The sweep saw them all (its teardown checks the shape); the error codes are the documented ones.
    codes = {r.json()["error"]["code"] for _, _, r in api_error_sweep}
    assert {"not_found", "invalid", "unsupported_media_type", "method_not_allowed"} <= codes
    assert codes & {"not_authenticated", "authentication_failed", "permission_denied"}


def test_the_sweep_flags_another_shape():
    assert shape_problems(400, "application/json", b'{"to": ["This field is required."]}')
    assert shape_problems(404, "text/html", b"<h1>Not Found</h1>")
    assert shape_problems(400, "application/json", b'{"error": {"code": "x", "message": "m", "fields": {"a": "b"}}}')
    assert not shape_problems(
        400, "application/json", b'{"error": {"code": "x", "message": "m", "fields": {"a": ["b"]}}}'
    )


def test_the_sweep_records_every_error_answer_of_a_test(api, bot, api_error_sweep):
    api.get("/api/sinch-whatsapp/bots/999999/")
    api.get("/api/sinch-whatsapp/bots/")  # a 200: not an error, not recorded
    assert [(method, path, r.status_code) for method, path, r in api_error_sweep] == [
        ("GET", "/api/sinch-whatsapp/bots/999999/", 404)
    ]


@pytest.fixture
def api(api_user):
    client = APIClient()
    client.force_authenticate(api_user)
    return client


def test_validation_errors_name_each_field_by_its_path(api, bot):
    response = api.post(f"/api/sinch-whatsapp/bots/{bot.pk}/send/", {"to": [""], "text": 5}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and set(error["fields"]) == {"to.0"}
    assert error["message"].startswith("to.0: ")
    assert flatten_fields({"a": {"0": ["x"]}, "b": ["y"], "c": [{}, {"d": ["z"]}]}) == {
        "a.0": ["x"],
        "b": ["y"],
        "c.1.d": ["z"],
    }


def test_no_valid_recipient_is_an_error_beside_the_outcome(api, bot):
    response = api.post(
        f"/api/sinch-whatsapp/bots/{bot.pk}/send/",
        {"to": ["not a number"], "text": "hi", "allow_outside_window": True},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "invalid_recipients" and body["rejected"][0]["to"] == "not a number"
    assert body["error"]["fields"]["to"][0].startswith("not a number: ")


def test_the_schema_documents_the_error_shape_for_every_error_status():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    assert {"code", "message"} <= set(components["ErrorBody"]["required"])
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                ref = response["content"]["application/json"]["schema"]["$ref"]
                name = ref.rsplit("/", 1)[1]
                assert "error" in components[name]["properties"], (method, path, status, name)


# -- unexpected crashes: 500 in the one shape --------------------------------------------------------

SECRET = "sk-live-must-never-show"


@pytest.fixture
def crashing(monkeypatch):
    """Make the send service and the message list raise what no handler expects (a bug, a lost database)."""

    def crash(*args, **kwargs):
        raise RuntimeError(f"boom with {SECRET}")

    monkeypatch.setattr("django_sinch_whatsapp.services.send_message", crash)
    monkeypatch.setattr("django_sinch_whatsapp.api.views._messages_with_history", crash)
    monkeypatch.setattr("django_sinch_whatsapp.api.urls.SinchAPIRootView.get", crash)
    return crash


@pytest.fixture
def quiet_api(api_user):
    """A client that answers a crash as a server would, instead of re-raising it in the test."""
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(api_user)
    return client


def _crash_calls(client, bot):
    return {
        "send": client.post(
            f"/api/sinch-whatsapp/bots/{bot.pk}/send/",
            {"to": ["46732001122"], "text": "hi", "allow_outside_window": True},
            format="json",
        ),
        "list": client.get("/api/sinch-whatsapp/messages/"),
        "detail": client.get("/api/sinch-whatsapp/messages/00000000-0000-0000-0000-000000000000/"),
        "root": client.get("/api/sinch-whatsapp/"),
    }


@pytest.mark.parametrize("debug", [False, True])
def test_a_crash_answers_500_in_the_one_shape_with_debug_on_or_off(
    quiet_api, bot, crashing, settings, caplog, api_error_sweep, debug
):
    from django.core.signals import got_request_exception

    settings.DEBUG = debug
    signalled = []

    def receiver(sender, request, **kwargs):
        import sys

        signalled.append((request.path, sys.exc_info()[0]))

    got_request_exception.connect(receiver)
    try:
        with caplog.at_level("ERROR", logger="django.request"):
            answers = _crash_calls(quiet_api, bot)
    finally:
        got_request_exception.disconnect(receiver)
    for name, response in answers.items():
        assert response.status_code == 500, name
        assert response["Content-Type"].startswith("application/json"), name
        assert response.json() == {
            "error": {
                "code": "server_error",
                "message": "The server failed to answer this request. The error was logged; try again later.",
            }
        }, name
        assert SECRET.encode() not in response.content and b"Traceback" not in response.content
    # Error trackers (Sentry's Django integration listens to this signal) see each crash, while it is handled.
    assert [exc for _, exc in signalled] == [RuntimeError] * 4
    assert signalled[0][0] == f"/api/sinch-whatsapp/bots/{bot.pk}/send/"
    # Logged once each on django.request, with the traceback (which may hold the secret: the log is private).
    records = [r for r in caplog.records if r.name == "django.request"]
    assert len(records) == 4 and all(r.levelname == "ERROR" and r.exc_info[0] is RuntimeError for r in records)
    assert records[0].getMessage() == f"Internal Server Error: /api/sinch-whatsapp/bots/{bot.pk}/send/"
    assert records[0].status_code == 500
    # The sweep records 5xx too (and its teardown checks their shape).
    assert [r.status_code for _, _, r in api_error_sweep] == [500] * 4


def test_a_crash_still_reaches_the_test_client_and_debug_propagate_exceptions(api, quiet_api, bot, crashing, settings):
    # Django's test client re-raises what got_request_exception signalled: a crash is never hidden in tests.
    with pytest.raises(RuntimeError, match="boom"):
        api.get("/api/sinch-whatsapp/messages/")
    settings.DEBUG_PROPAGATE_EXCEPTIONS = True
    with pytest.raises(RuntimeError, match="boom"):  # Django's setting: no handling, the exception propagates
        quiet_api.get("/api/sinch-whatsapp/messages/")


def test_djangos_own_bad_requests_stay_400_in_the_one_shape(quiet_api, bot, monkeypatch, caplog):
    from django.core.exceptions import BadRequest, SuspiciousOperation

    for exc in (BadRequest("no"), SuspiciousOperation(f"forged {SECRET}")):

        def refuse(*args, exc=exc, **kwargs):
            raise exc

        monkeypatch.setattr("django_sinch_whatsapp.api.views._messages_with_history", refuse)
        with caplog.at_level("ERROR", logger="django.security"):
            response = quiet_api.get("/api/sinch-whatsapp/messages/")
        assert response.status_code == 400
        assert response.json() == {"error": {"code": "bad_request", "message": "Bad request."}}
    # As Django does: a SuspiciousOperation is logged on django.security.<class>, not django.request.
    assert [r.name for r in caplog.records if r.name.startswith("django.")] == ["django.security.SuspiciousOperation"]


def test_the_schema_documents_the_crash_answer():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    send = schema["paths"]["/api/sinch-whatsapp/bots/{id}/send/"]["post"]["responses"]
    listing = schema["paths"]["/api/sinch-whatsapp/messages/"]["get"]["responses"]
    assert "500" in send and "500" in listing
    assert "server_error" in listing["500"]["description"]
