"""The contract machinery itself: the effective contract, the validator, the recorder and the plugin."""

from __future__ import annotations

import copy
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
import requests

from django_sinch_whatsapp.client.client import SinchWhatsAppClient
from django_sinch_whatsapp.client.session import BearerAuth
from tests.contract import spec
from tests.contract.recorder import Recorder
from tests.contract.samples import SAMPLES
from tests.contract.validate import NO_BODY, NotJSON, check

BOT = "/whatsapp/v1/sinchbot"
TOKEN = "contract-test-token-0123456789"
JSON_HEADERS = {"Authorization": "Bearer abc", "Content-Type": "application/json"}


def _message(message, to=("46732001122",)):
    return {"to": list(to), "message": message}


def _list_message(*sections):
    return {
        "type": "interactive",
        "message": {
            "type": "list",
            "body": {"text": "Pick one"},
            "action": {"button": "Choose", "sections": list(sections)},
        },
    }


def _section(title, *row_ids):
    return {"title": title, "rows": [{"id": row_id, "title": f"Row {row_id}"} for row_id in row_ids]}


# --- the pages' own samples pass --------------------------------------------------------------------------


@pytest.mark.parametrize("sample", SAMPLES, ids=[f"{i}-{sample.id}" for i, sample in enumerate(SAMPLES)])
def test_every_request_sample_of_the_pages_passes(sample):
    verdict = check(sample.method, BOT + sample.suffix, body=sample.body, query=sample.query)
    assert verdict.ok, verdict.violations
    assert verdict.operation is not None


def test_the_yaml_message_examples_pass_except_the_template_with_params():
    examples = spec.effective_contract()["components"]["examples"]
    names = ["TextExample", "ImageExample", "DocumentExample", "AudioExample", "VideoExample"]
    names += ["LocationExample", "ContactsExample"]
    for name in names:
        assert check("POST", BOT + "/messages", body=examples[name]["value"]).ok, name
    # The YAML's template example is from before header_params/body_params: the pages retired it.
    verdict = check("POST", BOT + "/messages", body=examples["TemplateExample"]["value"])
    assert {(v.rule, v.where) for v in verdict.violations} == {
        ("removed-member", "body.message.params"),
        ("required", "body.message.media"),
    }


# --- deliberately broken requests fail with the rule that says why ----------------------------------------

TEXT = {"type": "text", "text": "Hello"}
BROKEN = [
    ("missing to", "POST", "/messages", {"message": TEXT}, None, "required", "body.to"),
    ("21 recipients", "POST", "/messages", _message(TEXT, [str(n) for n in range(21)]), None, "maxItems", "body.to"),
    ("no recipients", "POST", "/messages", _message(TEXT, []), None, "minItems", "body.to"),
    ("unknown body member", "POST", "/messages", {**_message(TEXT), "priority": 1}, None, "unknown-member", "body"),
    (
        "callback not a URL",
        "POST",
        "/messages",
        {**_message(TEXT), "callback": "example.com"},
        None,
        "pattern",
        "body.callback",
    ),
    (
        "template with params",
        "POST",
        "/messages",
        _message({"type": "template", "template_name": "t", "params": ["x"], "media": {"type": "text"}}),
        None,
        "removed-member",
        "body.message.params",
    ),
    (
        "template without media",
        "POST",
        "/messages",
        _message({"type": "template", "template_name": "t", "body_params": ["x"]}),
        None,
        "required",
        "body.message.media",
    ),
    (
        "audio template media",
        "POST",
        "/messages",
        _message({"type": "template", "template_name": "t", "media": {"type": "audio", "url": "https://a.b/c.mp3"}}),
        None,
        "unknown-type",
        "body.message.media.type",
    ),
    (
        "caption in template media",
        "POST",
        "/messages",
        _message(
            {
                "type": "template",
                "template_name": "t",
                "media": {"type": "image", "url": "https://a/b.jpg", "caption": "c"},
            }
        ),
        None,
        "unknown-member",
        "body.message.media",
    ),
    (
        "header params over 60 characters",
        "POST",
        "/messages",
        _message({"type": "template", "template_name": "t", "header_params": ["x" * 61], "media": {"type": "text"}}),
        None,
        "template.parameter-length",
        "body.message.header_params",
    ),
    (
        "sticker with url and id",
        "POST",
        "/messages",
        _message({"type": "sticker", "url": "https://example.com/s.webp", "id": "c0b0aebe"}),
        None,
        "sticker.url-xor-id",
        "body.message",
    ),
    (
        "sticker with neither",
        "POST",
        "/messages",
        _message({"type": "sticker"}),
        None,
        "sticker.url-xor-id",
        "body.message",
    ),
    (
        "sticker id with provider",
        "POST",
        "/messages",
        _message({"type": "sticker", "id": "c0b0aebe", "provider": "p"}),
        None,
        "sticker.provider-needs-url",
        "body.message.provider",
    ),
    (
        "unknown message type",
        "POST",
        "/messages",
        _message({"type": "carousel"}),
        None,
        "unknown-type",
        "body.message.type",
    ),
    ("message without type", "POST", "/messages", _message({"text": "hi"}), None, "required", "body.message.type"),
    (
        "text too long",
        "POST",
        "/messages",
        _message({**TEXT, "text": "x" * 4097}),
        None,
        "maxLength",
        "body.message.text",
    ),
    (
        "preview_url a string",
        "POST",
        "/messages",
        _message({**TEXT, "preview_url": "yes"}),
        None,
        "type",
        "body.message.preview_url",
    ),
    (
        "latitude out of range",
        "POST",
        "/messages",
        _message({"type": "location", "lat": 91, "lng": 0}),
        None,
        "maximum",
        "body.message.lat",
    ),
    (
        "image over ftp",
        "POST",
        "/messages",
        _message({"type": "image", "url": "ftp://example.com/a.jpg"}),
        None,
        "pattern",
        "body.message.url",
    ),
    (
        "audio with caption",
        "POST",
        "/messages",
        _message({"type": "audio", "url": "https://a/b.mp3", "caption": "c"}),
        None,
        "unknown-member",
        "body.message",
    ),
    (
        "contact card without name",
        "POST",
        "/messages",
        _message({"type": "contacts", "contacts": [{"birthday": "2012-08-18"}]}),
        None,
        "required",
        "body.message.contacts[0].name",
    ),
    (
        "four reply buttons",
        "POST",
        "/messages",
        _message(
            {
                "type": "interactive",
                "message": {
                    "type": "button",
                    "body": {"text": "b"},
                    "action": {"buttons": [{"type": "reply", "id": str(n), "title": "t"} for n in range(4)]},
                },
            }
        ),
        None,
        "maxItems",
        "body.message.message.action.buttons",
    ),
    (
        "list with 11 rows in all",
        "POST",
        "/messages",
        _message(_list_message(_section("A", *"abcdef"), _section("B", *"ghijk"))),
        None,
        "list.total-rows",
        "body.message.message.action.sections",
    ),
    (
        "list with a repeated row id",
        "POST",
        "/messages",
        _message(_list_message(_section("A", "x"), _section("B", "x"))),
        None,
        "list.unique-row-ids",
        "body.message.message.action.sections",
    ),
    (
        "interactive of unknown kind",
        "POST",
        "/messages",
        _message({"type": "interactive", "message": {"type": "carousel"}}),
        None,
        "unknown-type",
        "body.message.message.type",
    ),
    ("opt-in of 21 numbers", "POST", "/provision/optin", {"numbers": ["1"] * 21}, None, "maxItems", "body.numbers"),
    ("opt-in without a body", "POST", "/provision/optin", NO_BODY, None, "body-required", "body"),
    ("opt-out of no numbers", "DELETE", "/provision/optin", {"numbers": []}, None, "minItems", "body.numbers"),
    ("capability of a number", "GET", "/capability", {"numbers": [46732001122]}, None, "type", "body.numbers[0]"),
    ("mark as delivered", "POST", "/events", {"type": "delivered", "message_id": "m"}, None, "enum", "body.type"),
    (
        "provider name with a dot",
        "POST",
        "/provision/provider",
        {"name": "my.provider", "type": "www", "config": {"bearer": "x"}},
        None,
        "pattern",
        "body.name",
    ),
    (
        "provider with two configs",
        "POST",
        "/provision/provider",
        {"name": "p", "type": "www", "config": {"bearer": "x", "basic": {"username": "u", "password": "p"}}},
        None,
        "maxProperties",
        "body.config",
    ),
    ("body on a bodiless GET", "GET", "/provision/provider", {"numbers": ["1"]}, None, "unexpected-body", "body"),
    ("blacklist page -1", "GET", "/provision/blacklist", NO_BODY, {"page": ["-1"]}, "minimum", "query.page"),
    ("blacklist page not a number", "GET", "/provision/blacklist", NO_BODY, {"page": ["two"]}, "type", "query.page"),
    (
        "unknown query parameter",
        "GET",
        "/provision/blacklist",
        NO_BODY,
        {"size": ["5"]},
        "unknown-query-parameter",
        "query.size",
    ),
    ("unknown namespace", "GET", "/stickerpacks", NO_BODY, {"namespace": ["mine"]}, "enum", "query.namespace"),
    ("stickerpack without publisher", "POST", "/stickerpacks", {"name": "n"}, None, "required", "body.publisher"),
    (
        "four emojis",
        "POST",
        "/stickerpacks/p/stickers",
        {"url": "u", "emojis": list("abcd")},
        None,
        "maxItems",
        "body.emojis",
    ),
    ("inbound page 0", "GET", "/callbacks/notifications", {"page": 0}, None, "minimum", "body.page"),
    ("unknown path", "GET", "/templates", NO_BODY, None, "unknown-path", "path"),
    ("unknown method", "PUT", "/messages", _message(TEXT), None, "unknown-method", "method"),
    ("body not JSON", "POST", "/provision/optin", NotJSON("numbers=1"), None, "body-not-json", "body"),
]


@pytest.mark.parametrize(
    ("method", "suffix", "body", "query", "rule", "where"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_a_broken_request_fails_with_the_rule_that_explains_it(method, suffix, body, query, rule, where):
    verdict = check(method, BOT + suffix, body=body, query=query)
    assert (rule, where) in {(v.rule, v.where) for v in verdict.violations}, verdict.violations
    assert all(v.source for v in verdict.violations)


def test_post_optout_is_still_valid_but_reported_as_deprecated():
    verdict = check("POST", BOT + "/provision/optout", body={"numbers": ["46732001122"]})
    assert verdict.ok
    assert len(verdict.notes) == 1
    assert "deprecated" in verdict.notes[0]
    assert "DELETE /provision/optin" in verdict.notes[0]


def test_delete_optin_is_the_current_opt_out():
    verdict = check("DELETE", BOT + "/provision/optin", body={"numbers": ["46732001122"]}, headers=JSON_HEADERS)
    assert verdict.ok
    assert verdict.notes == []
    assert verdict.operation == "DELETE /whatsapp/v1/{bot-id}/provision/optin"


def test_template_ttl_and_groups_are_accepted_with_a_deprecation_note():
    ttl = _message({"type": "template", "template_name": "t", "media": {"type": "text"}, "ttl": "P1D"})
    verdict = check("POST", BOT + "/messages", body=ttl)
    assert verdict.ok
    assert verdict.notes and "ttl" in verdict.notes[0]
    groups = check("GET", BOT + "/groups/group:447506616260-1565342732")
    assert groups.ok
    assert "groups are deprecated" in groups.notes[0]


def test_callback_store_filters_may_travel_in_the_body_or_the_query():
    assert check("GET", BOT + "/callbacks/notifications", body={"page": 2}).ok
    assert check("GET", BOT + "/callbacks/notifications", query={"page": ["2"], "page_size": ["50"]}).ok
    assert check("GET", BOT + "/callbacks/notifications").ok


@pytest.mark.parametrize(
    ("headers", "body", "rules"),
    [
        (JSON_HEADERS, {"numbers": ["1"]}, []),
        ({"Content-Type": "application/json"}, {"numbers": ["1"]}, ["authorization"]),
        (
            {"Authorization": "Basic dXNlcjpwdw==", "Content-Type": "application/json"},
            {"numbers": ["1"]},
            ["authorization"],
        ),
        ({"Authorization": "Bearer abc", "Content-Type": "text/plain"}, {"numbers": ["1"]}, ["content-type"]),
        ({"Authorization": "Bearer abc"}, NO_BODY, ["body-required"]),
    ],
)
def test_header_rules_of_the_introduction(headers, body, rules):
    assert check("POST", BOT + "/provision/optin", body=body, headers=headers).rules == rules


# --- the effective contract ----------------------------------------------------------------------------------


def test_the_effective_contract_is_still_an_openapi_document():
    from openapi_spec_validator import validate

    validate(copy.deepcopy(spec.effective_contract()))


def test_every_patch_and_every_cited_section_exists_in_the_pages():
    docs = spec.docs_dir()
    for patch in spec.PATCHES:
        text = (docs / patch.page).read_text(encoding="utf-8")
        assert patch.change, patch
        for heading in patch.section.split("; "):
            assert f"# {heading}" in text, (heading, patch)
    sources = set()

    def collect(node):
        if isinstance(node, dict):
            if isinstance(node.get("x-source"), str):
                sources.add(node["x-source"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(spec.effective_contract())
    assert len(sources) > 20
    for source in sources:
        page, section = source.split(" § ")
        text = (docs / page).read_text(encoding="utf-8")
        for part in section.split(" / "):
            assert part in text, source


def test_the_patches_only_add_what_the_yaml_lacks_or_the_pages_changed():
    original = spec.load_yaml()
    effective = spec.effective_contract()
    assert set(original["paths"]) <= set(effective["paths"])
    for template, item in original["paths"].items():
        assert set(item) <= set(effective["paths"][template]), template
    assert "delete" not in original["paths"][spec.BOT + "/provision/optin"]
    assert effective["paths"][spec.BOT + "/provision/optout"]["post"]["deprecated"] is True
    assert len(effective["info"]["x-page-patches"]) == len(spec.PATCHES)


# --- the recorder and the plugin --------------------------------------------------------------------------


class _FakeSinch(BaseHTTPRequestHandler):
    received: list[tuple[str, str, str | None]]

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.received.append((self.command, self.path, self.headers.get("Authorization")))
        status, body = 200, b"{}"
        if self.path.endswith("/messages"):
            status = 201
            body = json.dumps({"statuses": [{"message_id": "m1", "recipient": "+46732001122", "status": "success"}]})
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format, *args):
        pass


@pytest.fixture
def fake_sinch():
    """A tiny HTTP server on 127.0.0.1 that answers every Sinch call with success."""
    handler = type("Handler", (_FakeSinch,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}", received=handler.received)
    server.shutdown()
    server.server_close()


@pytest.fixture
def recorder(request):
    plugin = request.config.pluginmanager.get_plugin("tests.contract_plugin")
    if plugin is None:
        pytest.skip("tests.contract_plugin is not loaded (pytest_plugins in tests/conftest.py, or -p)")
    return request.getfixturevalue("contract_recorder")


def _recorded(recorder, base_url):
    return [record for record in recorder.records if record.url.startswith(base_url)]


def test_the_recorder_sees_what_the_client_sends_and_validates_it(recorder, fake_sinch, request):
    client = SinchWhatsAppClient("sinch bot", TOKEN, fake_sinch.url + "/eu1")
    try:
        client.opt_in(["46732001122"])
        client.send_message(["46732001122"], {"type": "text", "text": "Hello"})
        client.capability(["46732001122"], method="GET")
    finally:
        client.close()
    requests.get(fake_sinch.url + "/eu1/whatsapp/v1/sinch%20bot/provision/provider", timeout=5)  # not a client call

    records = _recorded(recorder, fake_sinch.url)
    assert [(r.method, r.prefix, r.path) for r in records] == [
        ("POST", "/eu1", "/whatsapp/v1/sinch%20bot/provision/optin"),
        ("POST", "/eu1", "/whatsapp/v1/sinch%20bot/messages"),
        ("GET", "/eu1", "/whatsapp/v1/sinch%20bot/capability"),
    ]
    assert records[1].body == {"to": ["46732001122"], "message": {"type": "text", "text": "Hello"}}
    assert records[2].body == {"numbers": ["46732001122"]}
    assert all(record.test == request.node.nodeid and not record.exempt for record in records)
    # The token went to the server but not into the record.
    assert [authorization for *_, authorization in fake_sinch.received[:3]] == [f"Bearer {TOKEN}"] * 3
    assert all(r.auth_scheme == "Bearer" and "authorization" not in map(str.lower, r.headers) for r in records)
    assert TOKEN not in repr(records)
    verdicts = [record.validate() for record in records]
    assert [v.operation for v in verdicts] == [
        "POST /whatsapp/v1/{bot-id}/provision/optin",
        "POST /whatsapp/v1/{bot-id}/messages",
        "GET /whatsapp/v1/{bot-id}/capability",
    ]
    assert all(v.ok for v in verdicts), [v.violations for v in verdicts]


def test_the_recorder_sees_the_conversation_clients_requests_and_checks_them_against_its_yaml(
    recorder, conversation_app, fresh_sandbox, request
):
    from tests.conversation_helpers import KEY_SECRET, make_client

    client = make_client(fresh_sandbox)
    try:
        from django_sinch_whatsapp.transports.conversation import wire

        message = {"type": "text", "text": "Hello"}
        client.send_message(
            wire.send_body(project_id=client.project_id, app_id=client.app_id, message=message, recipient="46732001122")
        )
        client.register_consent("opt_in", "46732001122", "req-1")
    finally:
        client.close()
    records = [r for r in _recorded(recorder, fresh_sandbox.base_url) if r.test == request.node.nodeid]
    # The token endpoint (OAuth, not the API) is not recorded; the API calls are, as the Conversation contract.
    assert [(r.api, r.method, r.prefix, r.path, r.query) for r in records] == [
        ("conversation", "POST", "/conversation/us", "/v1/projects/project-0f1e2d3c/messages:send", {}),
        (
            "conversation",
            "POST",
            "/conversation/us",
            "/v1/projects/project-0f1e2d3c/optins:register",
            {"request_id": ["req-1"]},
        ),
    ]
    verdicts = [record.validate() for record in records]
    assert [v.operation for v in verdicts] == ["SendMessageRequest", "OptIn"]
    assert all(v.ok for v in verdicts), [v.violations for v in verdicts]
    assert all(r.auth_scheme == "Bearer" for r in records) and KEY_SECRET not in repr(records)


def test_a_conversation_breach_is_a_violation_naming_its_rule():
    from tests.contract.recorder import CONVERSATION, RecordedRequest

    def record(body):
        return RecordedRequest(
            number=1,
            method="POST",
            url="https://us.conversation.api.sinch.com/v1/projects/P/messages:send",
            prefix="",
            path="/v1/projects/P/messages:send",
            query={},
            body=body,
            headers={},
            auth_scheme="Bearer",
            test="t",
            exempt=False,
            timeout=(5.0, 30.0),
            api=CONVERSATION,
        )

    recipient = {"identified_by": {"channel_identities": [{"channel": "WHATSAPP", "identity": "1"}]}}
    good = record(
        {"app_id": "A", "project_id": "P", "recipient": recipient, "message": {"text_message": {"text": "Hi"}}}
    )
    assert good.validate().ok
    # Two kinds in one message, and a member the API does not have.
    bad = record({"app_id": "A", "recipient": recipient, "message": {"text_message": {"text": "Hi"}, "x": 1}})
    assert not bad.validate().ok
    assert {v.source for v in bad.validate().violations} == {"conversation-api.yaml + README"}
    unknown = record({})
    unknown.path = "/v1/projects/P/stickerpacks"
    assert unknown.validate().rules == ["unknown-operation"]


@pytest.mark.contract_exempt(reason="proves an exempt test's contract breach is recorded but does not fail")
def test_an_exempt_test_may_break_the_contract_on_purpose(recorder, fake_sinch):
    client = SinchWhatsAppClient("sinchbot", TOKEN, fake_sinch.url + "/us1")
    try:
        client.request("POST", "provision/optin", json_body={"numbers": []}, idempotent=True)
    finally:
        client.close()
    (record,) = _recorded(recorder, fake_sinch.url)
    assert record.exempt
    assert record.validate().rules == ["minItems"]


def _plugin_state(test, method, url, body):
    """A stand-in for pytest's config with the plugin's state and one captured request."""
    from tests import contract_plugin

    recorder = Recorder()
    config = SimpleNamespace(stash=pytest.Stash())
    config.stash[contract_plugin._RECORDER] = recorder
    config.stash[contract_plugin._FINDINGS] = {"violations": [], "exempt": [], "notes": Counter(), "checked": 0}
    recorder.context = (test, False)
    recorder.capture(BearerAuth(TOKEN)(requests.Request(method, url, json=body).prepare()), (5.0, 30.0))
    return contract_plugin, config


def test_a_breach_fails_the_teardown_of_the_test_that_sent_it():
    contract_plugin, config = _plugin_state(
        "tests/test_example.py::test_sends_21",
        "POST",
        "https://eu1.whatsapp.api.sinch.com/whatsapp/v1/b/provision/optin",
        {"numbers": ["1"] * 21},
    )
    teardown = contract_plugin.pytest_runtest_teardown(SimpleNamespace(config=config), None)
    next(teardown)
    with pytest.raises(contract_plugin.ContractViolation) as caught:
        teardown.send(None)
    report = str(caught.value)
    assert "tests/test_example.py::test_sends_21" in report
    assert "POST /whatsapp/v1/b/provision/optin" in report
    assert "[maxItems] body.numbers: has 21 items; at most 20" in report
    assert TOKEN not in report
    assert config.stash[contract_plugin._FINDINGS]["violations"][0].test == "tests/test_example.py::test_sends_21"


def test_a_report_never_prints_media_provider_credentials():
    contract_plugin, config = _plugin_state(
        "tests/test_example.py::test_provider",
        "POST",
        "https://eu1.whatsapp.api.sinch.com/whatsapp/v1/b/provision/provider",
        {"name": "bad name", "type": "www", "config": {"basic": {"username": "u", "password": "s3cret-pw"}}},
    )
    (record,) = config.stash[contract_plugin._RECORDER].take_pending()
    assert record.validate().rules == ["pattern"]
    assert "s3cret-pw" not in record.describe()
    assert record.body["config"]["basic"]["password"] == "s3cret-pw"  # validated as sent


def test_a_contract_that_cannot_be_loaded_fails_the_run_once_with_the_reason(monkeypatch):
    contract_plugin, config = _plugin_state(
        "tests/test_example.py::test_any",
        "POST",
        "https://eu1.whatsapp.api.sinch.com/whatsapp/v1/b/provision/optin",
        {"numbers": ["1"]},
    )

    def missing():
        raise FileNotFoundError("whatsapp-api.yaml")

    monkeypatch.setattr(contract_plugin.Contract, "default", missing)
    assert contract_plugin._check_pending(config) == []
    assert "SINCH_WHATSAPP_DOCS" in config.stash[contract_plugin._FINDINGS]["load_error"]
    session = SimpleNamespace(config=config, exitstatus=0)
    contract_plugin.pytest_sessionfinish(session, 0)
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED


def test_a_call_without_timeouts_is_a_violation():
    from tests.contract.recorder import RecordedRequest
    from tests.contract.validate import NO_BODY

    def record(timeout):
        return RecordedRequest(
            number=1,
            method="GET",
            url="http://x/whatsapp/v1/b/provision/provider",
            prefix="",
            path="/whatsapp/v1/b/provision/provider",
            query={},
            body=NO_BODY,
            headers={},
            auth_scheme="Bearer",
            test="t",
            exempt=False,
            timeout=timeout,
        )

    assert "timeouts" in record(None).validate().rules
    assert "timeouts" in record((5.0, None)).validate().rules
    assert "timeouts" not in record((5.0, 30.0)).validate().rules
