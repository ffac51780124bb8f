"""Every error answer of the API that any test of the suite provokes is checked against the one error shape.

An autouse fixture wraps Django's test client (``APIClient`` is one): each response under the API's
prefix with a 4xx/5xx status is recorded, and when the test ends every recorded body must be the shape
``api/errors.py`` documents. A test that provokes an error of another shape fails at teardown, naming
the request. The fixture's value is the list of
error answers the test provoked (tests/test_api_errors.py reads it).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

API_PREFIX = "/api/sinch-whatsapp/"


def shape_problems(status: int, content_type: str, content: bytes) -> list[str]:
    """What is wrong with an error answer (empty when it is the one shape)."""
    if not content_type.startswith("application/json"):
        return [f"{status} answered {content_type!r}, not JSON"]
    try:
        body = json.loads(content)
    except ValueError:
        return [f"{status} body is not JSON"]
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return [f"{status} body has no 'error' object: {str(body)[:200]}"]
    problems = []
    if not isinstance(error.get("code"), str) or not error["code"]:
        problems.append(f"{status} error.code missing: {error}")
    if not isinstance(error.get("message"), str):
        problems.append(f"{status} error.message missing: {error}")
    fields = error.get("fields")
    if fields is not None and not (
        isinstance(fields, dict)
        and all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(p, str) for p in v) for k, v in fields.items()
        )
    ):
        problems.append(f"{status} error.fields is not {{field: [problem]}}: {fields}")
    return problems


@pytest.fixture(autouse=True)
def api_error_sweep(monkeypatch):
    recorded: list[tuple[str, str, Any]] = []
    real_request = Client.request

    def request(self, **request):
        response = real_request(self, **request)
        path = request.get("PATH_INFO", "")
        # 5xx included: an unexpected crash answers 500 ``server_error`` in the one shape too (a test sees
        # it only with ``raise_request_exception=False``; otherwise the test client re-raises the crash).
        # The browsable API's HTML pages (asked for with Accept: text/html) show the error in the page.
        browsable = "text/html" in request.get("HTTP_ACCEPT", "")
        if path.startswith(API_PREFIX) and response.status_code >= 400 and not browsable:
            recorded.append((request.get("REQUEST_METHOD", "GET"), path, response))
        return response

    monkeypatch.setattr(Client, "request", request)
    yield recorded
    findings = []
    for method, path, response in recorded:
        for problem in shape_problems(response.status_code, response.get("Content-Type", ""), response.content):
            findings.append(f"{method} {path}: {problem}")
    assert not findings, "API error answers not in the one error shape:\n" + "\n".join(findings)
