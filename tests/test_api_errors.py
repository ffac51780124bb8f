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
