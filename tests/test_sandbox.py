"""The sandbox itself, over real HTTP: auth per region, validation, signed callbacks, every endpoint, faults.

No Django database is involved; one sandbox serves the whole module and is reset before each test.
A tiny local HTTP server stands for the project's webhook and records the callbacks it receives.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from django_sinch_whatsapp.callbacks.signature import (
    ALGORITHM,
    ALGORITHM_HEADER,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    SignatureError,
    SignatureHeaders,
    verify,
)
from django_sinch_whatsapp.sandbox import SandboxServer

from .message_samples import SAMPLES as MESSAGE_SAMPLES

BOT = "sandbox-bot"
TOKEN = "sandbox-token"
KEY = "sandbox-hmac-key"
NUMBER = "46732001122"
STATES = ["queued", "dispatched", "sent", "delivered", "read"]


class Receiver:
    """A webhook stand-in: records every POST (path, headers, raw body) and answers the queued statuses."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.answers: list[int] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append({"path": self.path, "headers": dict(self.headers.items()), "body": body})
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.answers.clear()

    def payloads(self, path: str | None = None) -> list[dict]:
        with self.lock:
            return [json.loads(item["body"]) for item in self.received if path is None or item["path"] == path]


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(step_delay=0.01, callback_retry_delay=0.01) as server:
        yield server


@pytest.fixture(scope="module")
def receiver():
    hook = Receiver()
    yield hook
    hook.httpd.shutdown()
    hook.httpd.server_close()


@pytest.fixture(autouse=True)
def fresh(sandbox, receiver):
    sandbox.reset()
    receiver.clear()
    yield


@pytest.fixture(scope="module")
def http():
    session = requests.Session()
    session.trust_env = False
    yield session
    session.close()


@pytest.fixture
def bot(sandbox, receiver):
    return sandbox.register_bot(BOT, TOKEN, region="us", callback_url=receiver.url(), callback_key=KEY)


def url(sandbox: SandboxServer, path: str, region: str = "us", bot_id: str = BOT) -> str:
    return f"{sandbox.region_url(region)}/whatsapp/v1/{bot_id}/{path}"


def auth(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


def send(http, sandbox, message: dict, to: list | None = None, **extra) -> requests.Response:
    body = {"to": to if to is not None else [NUMBER], "message": message, **extra}
    return http.post(url(sandbox, "messages"), json=body, headers=auth(), timeout=5)


def text(body: str = "Greetings from Sinch") -> dict:
    return {"type": "text", "preview_url": False, "text": body}


def verified(item: dict, key: str = KEY) -> dict:
    headers = SignatureHeaders.from_headers(item["headers"])
    assert headers is not None, "callback is not signed"
    assert verify(headers, item["body"], [("bot", key)]) == "bot"
    return json.loads(item["body"])


# --- authentication (whatsapp-introduction.md) -----------------------------------------------------------


def test_wrong_token_missing_header_unknown_bot_and_other_region_are_401(http, sandbox, bot):
    cases = {
        "wrong token": http.post(url(sandbox, "messages"), json={}, headers=auth("nope"), timeout=5),
        "missing header": http.post(url(sandbox, "messages"), json={}, timeout=5),
        "not bearer": http.post(url(sandbox, "messages"), json={}, headers={"Authorization": "Basic x"}, timeout=5),
        "unknown bot": http.post(url(sandbox, "messages", bot_id="nobody"), json={}, headers=auth(), timeout=5),
        "other region": http.post(url(sandbox, "messages", region="eu"), json={}, headers=auth(), timeout=5),
    }
    for name, response in cases.items():
        assert response.status_code == 401, name
        assert response.json()["message"] == "Unauthorized", name
        assert response.json()["details"], name
    assert "not provisioned in region eu1" in cases["other region"].json()["details"]
    assert "Missing Authorization" in cases["missing header"].json()["details"]


def test_eu_bot_works_on_eu_prefix_only(http, sandbox):
    sandbox.register_bot("eu-bot", "eu-token", region="eu")
    body = {"to": [NUMBER], "message": text()}
    ok = http.post(url(sandbox, "messages", "eu", "eu-bot"), json=body, headers=auth("eu-token"), timeout=5)
    wrong = http.post(url(sandbox, "messages", "us", "eu-bot"), json=body, headers=auth("eu-token"), timeout=5)
    assert ok.status_code == 201
    assert wrong.status_code == 401 and "us1" in wrong.json()["details"]


def test_unknown_paths_are_404_and_wrong_methods_405(http, sandbox, bot):
    assert http.get(f"{sandbox.base_url}/nowhere", timeout=5).status_code == 404
    assert http.get(f"{sandbox.base_url}/ap1/whatsapp/v1/{BOT}/messages", timeout=5).status_code == 404
    missing = http.get(url(sandbox, "no/such/thing"), headers=auth(), timeout=5)
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found"
    wrong = http.get(url(sandbox, "messages"), headers=auth(), timeout=5)
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "POST"


# --- POST /messages (whatsapp-message.md) -------------------------------------------------------------------


def test_send_answers_201_with_one_queued_status_per_recipient(http, sandbox, bot):
    numbers = [NUMBER, "+46732002244", "46 73 200 33 66"]
    response = send(http, sandbox, text(), to=numbers)
    assert response.status_code == 201
    body = response.json()
    assert body["type"] == "whatsapp"
    assert [status["recipient"] for status in body["statuses"]] == ["+46732001122", "+46732002244", "+46732003366"]
    assert {(status["status"], status["state"]) for status in body["statuses"]} == {("success", "queued")}
    ids = [status["message_id"] for status in body["statuses"]]
    assert len(set(ids)) == 3 and all(len(message_id) == 26 and message_id.isalnum() for message_id in ids)
    assert sandbox.count("POST", "/messages") == 1
    assert sandbox.requests_log[-1]["body"]["to"] == numbers


def test_twenty_recipients_pass_twenty_one_fail(http, sandbox, bot):
    numbers = [f"4673200{index:04d}" for index in range(21)]
    ok = send(http, sandbox, text(), to=numbers[:20])
    too_many = send(http, sandbox, text(), to=numbers)
    none = send(http, sandbox, text(), to=[])
    assert ok.status_code == 201 and len(ok.json()["statuses"]) == 20
    assert too_many.status_code == 400
    assert too_many.json() == {"message": "Bad Request", "details": "to: must contain 1 to 20 elements (got 21)"}
    assert none.status_code == 400 and none.json()["details"].startswith("to:")


LONG = "x" * 4097
INVALID_MESSAGES = [
    (text(LONG), "message.text: must be at most 4096 characters"),
    ({"type": "text"}, "message.text: is required"),
    ({"type": "fax", "text": "hi"}, "message.type: must be one of"),
    ({"type": "image"}, "message.url: must be a URL"),
    ({"type": "image", "url": "ftp://example.com/a.jpg"}, "message.url: must be an absolute http or https URL"),
    ({"type": "location", "lat": 91, "lng": 0}, "message.lat: must be between -90 and 90"),
    ({"type": "location", "lat": 1, "lng": "east"}, "message.lng: must be a number"),
    ({"type": "contacts", "contacts": []}, "message.contacts: must contain at least 1 elements"),
    ({"type": "sticker", "url": "https://example.com/s.webp", "id": "abc"}, "message: exactly one of url and id"),
    ({"type": "sticker", "id": "abc", "provider": "p"}, "message.provider: can only be used together with url"),
    (
        {"type": "template", "template_name": "t", "params": ["a"], "media": {"type": "text"}},
        "message.params: is no longer supported",
    ),
    ({"type": "template", "template_name": "t", "language": "xx"}, "message.language: unsupported language code"),
    ({"type": "template", "template_name": "t"}, "message.media: is required"),
    (
        {"type": "template", "template_name": "t", "media": {"type": "audio", "url": "https://e.com/a.mp3"}},
        "message.media.type: must be one of text, image, video, document",
    ),
    (
        {"type": "template", "template_name": "t", "header_params": ["x" * 61], "media": {"type": "text"}},
        "message.header_params: all parameters together must be at most 60 characters",
    ),
    (
        {
            "type": "interactive",
            "message": {
                "type": "button",
                "body": {"text": "b"},
                "action": {"buttons": [{"type": "reply", "id": str(i), "title": "t"} for i in range(4)]},
            },
        },
        "message.message.action.buttons: must contain 1 to 3 elements (got 4)",
    ),
    (
        {
            "type": "interactive",
            "message": {
                "type": "list",
                "body": {"text": "b"},
                "action": {
                    "button": "Pick",
                    "sections": [
                        {"title": f"S{s}", "rows": [{"id": f"{s}-{r}", "title": "t"} for r in range(6)]}
                        for s in range(2)
                    ],
                },
            },
        },
        "message.message.action.sections: may hold at most 10 rows in all",
    ),
    (
        {
            "type": "interactive",
            "message": {
                "type": "button",
                "header": {"type": "text", "text": "h" * 61},
                "body": {"text": "b"},
                "action": {"buttons": [{"type": "reply", "id": "1", "title": "t"}]},
            },
        },
        "message.message.header.text: must be at most 60 characters",
    ),
]


@pytest.mark.parametrize(("message", "details"), INVALID_MESSAGES)
def test_invalid_messages_get_sinch_style_400(http, sandbox, bot, message, details):
    response = send(http, sandbox, message)
    assert response.status_code == 400
    assert response.json()["message"] == "Bad Request"
    assert response.json()["details"].startswith(details)


def test_invalid_envelopes_get_400(http, sandbox, bot):
    bad_number = send(http, sandbox, text(), to=["not-a-number"])
    bad_callback = send(http, sandbox, text(), callback="not a url")
    malformed = http.post(url(sandbox, "messages"), data=b"{nope", headers=auth(), timeout=5)
    assert bad_number.json()["details"].startswith("to[0]: ")
    assert bad_callback.json()["details"].startswith("callback: ")
    assert malformed.status_code == 400 and malformed.json()["details"].startswith("body: malformed JSON")


# Every message sample of the pages (the builder tests' copies), as the sandbox must accept them.
DOC_SAMPLES = dict(MESSAGE_SAMPLES)


@pytest.mark.parametrize("name", sorted(DOC_SAMPLES))
def test_the_pages_samples_are_accepted(http, sandbox, bot, name):
    message = DOC_SAMPLES[name]
    assert send(http, sandbox, message).status_code == 201


# --- delivery reports and signatures (whatsapp-callback.md) ---------------------------------------------------


@pytest.mark.parametrize("encoding", ["base64", "hex"])
def test_five_signed_delivery_reports_arrive_in_order(http, sandbox, receiver, encoding):
    sandbox.register_bot(BOT, TOKEN, callback_url=receiver.url(), callback_key=KEY, signature_encoding=encoding)
    message_id = send(http, sandbox, text()).json()["statuses"][0]["message_id"]
    assert sandbox.wait_for_callbacks(5)
    # A report of an earlier test's message may still be in flight when this test starts (the
    # receiver is shared by the module): only this message's reports are this test's.
    receiver.received[:] = [item for item in receiver.received if message_id.encode() in item["body"]]
    assert len(receiver.received) == 5
    reports = [verified(item) for item in receiver.received]
    assert [report["statuses"][0]["state"] for report in reports] == STATES
    for report in reports:
        assert report["type"] == "whatsapp"
        status = report["statuses"][0]
        assert status["status"] == "success" and status["message_id"] == message_id
        assert status["recipient"] == "+46732001122" and status["timestamp"].endswith("Z")
    first = receiver.received[0]["headers"]
    assert first[ALGORITHM_HEADER] == ALGORITHM
    signature = first[SIGNATURE_HEADER]
    assert len(signature) == 64 if encoding == "hex" else signature.endswith("=")
    assert len({item["headers"][NONCE_HEADER] for item in receiver.received}) == 5
    with pytest.raises(SignatureError):
        verify(SignatureHeaders.from_headers(first), receiver.received[0]["body"], [("other", "wrong-key")])
    assert [entry["attempt"] for entry in sandbox.callback_log] == [1] * 5
    assert sandbox.messages[0]["states"] == STATES


def test_message_callback_overrides_the_bots_url_and_unsigned_bots_send_no_signature(http, sandbox, receiver):
    sandbox.register_bot(BOT, TOKEN, callback_url=receiver.url("/bot"))
    send(http, sandbox, text(), to=[NUMBER, "46732002244"], callback=receiver.url("/override"))
    assert sandbox.wait_for_callbacks(5)
    assert len(receiver.payloads("/override")) == 10 and receiver.payloads("/bot") == []
    assert all(SIGNATURE_HEADER not in item["headers"] for item in receiver.received)
    for recipient in ("+46732001122", "+46732002244"):
        states = [p["statuses"][0]["state"] for p in receiver.payloads() if p["statuses"][0]["recipient"] == recipient]
        assert states == STATES


def test_no_callback_url_means_nothing_is_posted_but_the_store_fills(http, sandbox, receiver):
    sandbox.register_bot(BOT, TOKEN)
    message_id = send(http, sandbox, text()).json()["statuses"][0]["message_id"]
    assert sandbox.wait_for_callbacks(5)
    assert receiver.received == [] and sandbox.callback_log == []
    stored = http.get(url(sandbox, f"callbacks/status/{message_id}"), headers=auth(), timeout=5).json()
    assert [result["statuses"][0]["state"] for result in stored["results"]] == STATES


def test_no_opt_in_then_opt_in_then_customer_care_window(http, sandbox, receiver):
    sandbox.register_bot(BOT, TOKEN, callback_url=receiver.url(), callback_key=KEY, require_opt_in=True)
    send(http, sandbox, text())
    assert sandbox.wait_for_callbacks(5)
    [report] = [verified(item) for item in receiver.received]
    status = report["statuses"][0]
    assert (status["status"], status["state"]) == ("failure", "no_opt_in") and status["details"]

    receiver.clear()
    assert http.post(url(sandbox, "provision/optin"), json={"numbers": [NUMBER]}, headers=auth(), timeout=5).ok
    send(http, sandbox, text())
    assert sandbox.wait_for_callbacks(5)
    assert [p["statuses"][0]["state"] for p in receiver.payloads()] == STATES

    receiver.clear()
    sandbox.inject_inbound(BOT, "46732009999")  # a message from the user opens a 24-hour window
    send(http, sandbox, text(), to=["46732009999"])
    assert sandbox.wait_for_callbacks(5)
    assert [p["statuses"][0]["state"] for p in receiver.payloads() if "statuses" in p] == STATES


def test_no_capability(http, sandbox, receiver, bot):
    sandbox.set_capability(BOT, NUMBER, False)
    send(http, sandbox, text(), to=[NUMBER, "46732002244"])
    assert sandbox.wait_for_callbacks(5)
    by_recipient: dict[str, list] = {}
    for payload in receiver.payloads():
        status = payload["statuses"][0]
        by_recipient.setdefault(status["recipient"], []).append((status["status"], status["state"]))
    assert by_recipient["+46732001122"] == [("failure", "no_capability")]
    assert [state for _, state in by_recipient["+46732002244"]] == STATES


def test_failed_callbacks_are_retried_and_every_attempt_recorded(http, sandbox, receiver, bot):
    receiver.answers = [500, 503]
    send(http, sandbox, text())
    assert sandbox.wait_for_callbacks(5)
    log = sandbox.callback_log
    assert [(entry["attempt"], entry["status"]) for entry in log[:3]] == [(1, 500), (2, 503), (3, 200)]
    assert log[0]["raw_body"] == log[2]["raw_body"]  # a retry sends the same signed bytes
    assert [p["statuses"][0]["state"] for p in receiver.payloads()] == ["queued"] * 3 + STATES[1:]


def test_unreachable_receiver_is_given_up_after_the_retries(http, sandbox):
    sandbox.register_bot(BOT, TOKEN, callback_url="http://127.0.0.1:9/hook")
    send(http, sandbox, text())
    assert sandbox.wait_for_callbacks(10)
    log = sandbox.callback_log
    assert len(log) == 5 * 4 and all(entry["status"] is None and entry["error"] for entry in log)
    assert [entry["attempt"] for entry in log[:4]] == [1, 2, 3, 4]


# --- batched delivery reports (a callback's "statuses" is an array, whatsapp-callback.md) ------------------------


@pytest.fixture
def batching(receiver):
    with SandboxServer(
        step_delay=0.01, callback_retry_delay=0.01, statuses_per_callback=50, callback_batch_window=0.2
    ) as server:
        server.register_bot(BOT, TOKEN, callback_url=receiver.url(), callback_key=KEY)
        yield server


def reports_by_recipient(payloads: list[dict]) -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for payload in payloads:
        for status in payload.get("statuses", []):
            states.setdefault(status["recipient"], []).append(status["state"])
    return states


def test_batched_reports_hold_several_messages_statuses_and_each_chain_goes_on(http, batching, receiver):
    numbers = [f"4673200{n:04d}" for n in range(10)]
    batching.set_capability(BOT, numbers[0], False)
    send(http, batching, text(), to=numbers)
    assert batching.wait_for_callbacks(10)
    payloads = [verified(item) for item in receiver.received]  # signed over the merged bytes
    states = reports_by_recipient(payloads)
    assert states.pop("+" + numbers[0]) == ["no_capability"]
    assert states == {"+" + number: STATES for number in numbers[1:]}  # each report once, in order
    # One callback per step of the chains, not one per report: 46 reports in a handful of callbacks.
    assert len(payloads) < 10 and max(len(p["statuses"]) for p in payloads) >= 9
    first = batching.callback_log[0]
    assert len(first["message_ids"]) == len(first["body"]["statuses"]) == 10
    assert all(m["states"] for m in batching.messages)


def test_a_batch_holds_at_most_statuses_per_callback(http, receiver):
    with SandboxServer(step_delay=0.01, statuses_per_callback=4, callback_batch_window=600.0) as server:
        server.register_bot(BOT, TOKEN, callback_url=receiver.url())
        numbers = [f"4673200{n:04d}" for n in range(8)]
        send(http, server, text(), to=numbers)
        # Full batches go at once: eight recipients' reports never wait for the 10-minute window.
        assert server.wait_for_callbacks(20)
    payloads = receiver.payloads()
    assert {len(p["statuses"]) for p in payloads} == {4}
    assert reports_by_recipient(payloads) == {"+" + number: STATES for number in numbers}


def test_a_failed_batch_is_retried_and_every_report_arrives_once(http, batching, receiver):
    receiver.answers = [500]
    numbers = [NUMBER, "46732002244", "46732003366"]
    send(http, batching, text(), to=numbers)
    assert batching.wait_for_callbacks(10)
    log = batching.callback_log
    assert (log[0]["status"], log[0]["attempt"], len(log[0]["message_ids"])) == (500, 1, 3)
    assert (log[1]["status"], log[1]["attempt"]) == (200, 2)
    assert log[1]["body"]["statuses"] == log[0]["body"]["statuses"]  # the same reports, built once
    delivered = [entry["body"] for entry in log if entry["status"] == 200]
    assert reports_by_recipient(delivered) == {"+" + number: STATES for number in numbers}


def test_inbound_callbacks_are_never_batched(batching, receiver):
    for sender in (NUMBER, "46732002244"):
        batching.inject_inbound(BOT, sender, text="hi")
    assert batching.wait_for_callbacks(5)
    assert [len(p["notifications"]) for p in receiver.payloads()] == [1, 1]


def test_statuses_per_callback_must_be_positive():
    with pytest.raises(ValueError, match="statuses_per_callback"):
        SandboxServer(statuses_per_callback=0)
    with pytest.raises(ValueError, match="batch_window"):
        SandboxServer(statuses_per_callback=5, callback_batch_window=-1)


# --- send rates and repeated sends, as the sandbox saw them ----------------------------------------------------


def test_peak_window_counts_messages_in_any_half_open_window():
    from django_sinch_whatsapp.sandbox.server import peak_in_window

    assert peak_in_window([(0.0, 20), (0.5, 20), (0.99, 5), (1.0, 20)]) == 45  # [0.5, 1.5) and [0, 1)
    assert peak_in_window([(1.0, 5), (0.0, 5)]) == 5  # unsorted; 1.0 is outside [0, 1)
    assert peak_in_window([(0.0, 5), (0.999, 5), (1.5, 5)]) == 10
    assert peak_in_window([(0.0, 5), (0.4, 5), (0.8, 5)], window=0.5) == 10
    assert peak_in_window([]) == 0


def test_send_times_peak_rate_and_repeated_sends_per_bot(http, sandbox, bot):
    sandbox.register_bot("other-bot", "other-token")
    before = time.time()
    send(http, sandbox, text(), to=[NUMBER, "46732002244"])
    send(http, sandbox, text("Another"), to=[NUMBER])
    send(http, sandbox, text(), to=["+46732001122"])  # the first message again, to the same number
    other = {"to": [NUMBER], "message": text()}
    http.post(url(sandbox, "messages", bot_id="other-bot"), json=other, headers=auth("other-token"), timeout=5)
    http.post(url(sandbox, "capability"), json={"numbers": [NUMBER]}, headers=auth(), timeout=5)

    sends = sandbox.send_times(BOT)
    assert [count for _, count in sends] == [2, 1, 1]  # messages of this bot only, in arrival order
    assert all(before <= moment <= time.time() for moment, _ in sends)
    assert sandbox.peak_rate(BOT) == 4 and sandbox.peak_rate("other-bot") == 1
    assert sandbox.peak_rate(BOT, window=0.000001) == 2
    assert sandbox.repeated_sends(BOT) == {NUMBER: 2}
    assert sandbox.repeated_sends("other-bot") == {}


def test_rates_over_the_control_api(http, sandbox, receiver, bot):
    sandbox.set_capability(BOT, "46732002244", False)
    send(http, sandbox, text(), to=[NUMBER, "46732002244"])
    send(http, sandbox, text(), to=[NUMBER])
    assert sandbox.wait_for_callbacks(5)
    rates = http.get(f"{sandbox.base_url}/_sandbox/rates", params={"bot_id": BOT}, timeout=5).json()
    assert (rates["requests"], rates["messages"], rates["peak"], rates["window"]) == (2, 3, 3, 1.0)
    assert rates["first"] <= rates["last"] and rates["repeated"] == {NUMBER: 2}
    # 5 + 5 reports for the two messages to NUMBER, 1 no_capability: one callback each (no batching here).
    assert (rates["statuses"], rates["status_callbacks"], rates["failed_status_callbacks"]) == (11, 11, 0)
    unknown = http.get(f"{sandbox.base_url}/_sandbox/rates", params={"bot_id": "ghost"}, timeout=5)
    assert unknown.status_code == 404
    bad = http.get(f"{sandbox.base_url}/_sandbox/rates", params={"bot_id": BOT, "window": "0"}, timeout=5)
    assert bad.status_code == 400 and "window" in bad.text


def test_a_requests_time_is_its_arrival_not_its_answer(http, sandbox, bot):
    sandbox.faults.slow_next(1, 0.4)
    before = time.time()
    assert send(http, sandbox, text()).status_code == 201
    answered = time.time()
    [(arrived, _)] = sandbox.send_times(BOT)
    assert before <= arrived <= answered - 0.4  # stamped before the fault's delay, not when answered


# --- inbound (whatsapp-callback.md) --------------------------------------------------------------------------


def test_inject_inbound_posts_a_signed_text_callback(sandbox, receiver, bot):
    message_id = sandbox.inject_inbound(BOT, "0732001122", text="Hello bot", contacts_name="John Smith")
    assert sandbox.wait_for_callbacks(5)
    [item] = receiver.received
    payload = verified(item)
    assert payload["type"] == "whatsapp"
    assert payload["contacts"] == [{"profile": {"name": "John Smith"}, "wa_id": "0732001122"}]
    [notification] = payload["notifications"]
    assert notification["from"] == "0732001122" and notification["to"] == BOT
    assert notification["message_id"] == message_id
    assert notification["message"] == {"type": "text", "body": "Hello bot"}
    assert notification["timestamp"].endswith("Z") and "replying_to" not in notification


def test_inject_any_inbound_message_with_a_reply_context(sandbox, receiver, bot):
    image = {"type": "image", "url": "http://www.example.com/img.jpg", "mime_type": "image/jpeg", "caption": "Hi"}
    context = {"from": "447537817391", "message_id": "01E7Q9AVTRB5A30JD7D9ZN0HTE"}
    sandbox.inject_inbound(BOT, NUMBER, message=image, replying_to=context, extra={"forwarded": True})
    assert sandbox.wait_for_callbacks(5)
    [payload] = receiver.payloads()
    assert "contacts" not in payload  # only text, contacts and location carry the profile
    [notification] = payload["notifications"]
    assert notification["message"] == image and notification["replying_to"] == context
    assert notification["forwarded"] is True


def test_blacklisted_senders_generate_no_inbound_callback(http, sandbox, receiver, bot):
    http.post(url(sandbox, "provision/blacklist"), json={"numbers": [NUMBER]}, headers=auth(), timeout=5)
    sandbox.inject_inbound(BOT, f"+{NUMBER}")
    sandbox.inject_inbound(BOT, "46732002244")
    assert sandbox.wait_for_callbacks(5)
    assert [p["notifications"][0]["from"] for p in receiver.payloads()] == ["46732002244"]


def test_mark_inbound_message_as_read(http, sandbox, bot):
    message_id = sandbox.inject_inbound(BOT, NUMBER)
    ok = http.post(url(sandbox, "events"), json={"type": "read", "message_id": message_id}, headers=auth(), timeout=5)
    unknown = http.post(url(sandbox, "events"), json={"type": "read", "message_id": "01X"}, headers=auth(), timeout=5)
    wrong = http.post(
        url(sandbox, "events"), json={"type": "seen", "message_id": message_id}, headers=auth(), timeout=5
    )
    assert ok.status_code == 201 and ok.content == b""
    assert unknown.status_code == 400 and unknown.json()["details"].startswith("message_id: ")
    assert wrong.status_code == 400 and wrong.json()["details"].startswith("type: ")
    assert sandbox.state.get(BOT).inbound[message_id]["read"] is True


# --- provisioning, capability, providers, blacklist ----------------------------------------------------------


def test_opt_in_opt_out_and_deprecated_optout(http, sandbox, bot):
    numbers = {"numbers": [NUMBER, "46732002244"]}
    added = http.post(url(sandbox, "provision/optin"), json=numbers, headers=auth(), timeout=5)
    again = http.post(url(sandbox, "provision/optin"), json=numbers, headers=auth(), timeout=5)
    assert (added.status_code, added.content, again.status_code) == (200, b"", 200)
    assert set(sandbox.state.get(BOT).opted_in) == {NUMBER, "46732002244"}
    removed = http.delete(url(sandbox, "provision/optin"), json={"numbers": [NUMBER]}, headers=auth(), timeout=5)
    deprecated = http.post(
        url(sandbox, "provision/optout"), json={"numbers": ["46732002244"]}, headers=auth(), timeout=5
    )
    assert removed.status_code == deprecated.status_code == 200
    assert sandbox.state.get(BOT).opted_in == {}
    for body in ({"numbers": []}, {"numbers": [NUMBER] * 21}, {}, {"numbers": ["abc"]}):
        response = http.post(url(sandbox, "provision/optin"), json=body, headers=auth(), timeout=5)
        assert response.status_code == 400 and response.json()["details"].startswith("numbers")


def test_capability_by_get_with_a_json_body_and_by_post(http, sandbox, bot):
    sandbox.set_capability(BOT, "46732002244", False)
    body = {"numbers": [NUMBER, "46732002244"]}
    expected = {"capabilities": [{"msisdn": NUMBER, "capable": True}, {"msisdn": "46732002244", "capable": False}]}
    assert http.get(url(sandbox, "capability"), json=body, headers=auth(), timeout=5).json() == expected
    assert http.post(url(sandbox, "capability"), json=body, headers=auth(), timeout=5).json() == expected
    empty = http.get(url(sandbox, "capability"), headers=auth(), timeout=5)
    assert empty.status_code == 400 and empty.json()["details"] == "body: is required"


def test_media_providers(http, sandbox, bot):
    basic = {"name": "basic_media-provider", "type": "www", "config": {"basic": {"username": "u", "password": "p"}}}
    bearer = {"name": "bearer_provider", "type": "www", "config": {"bearer": "AbCdEf123456"}}
    for provider in (basic, bearer, dict(bearer, config={"bearer": "new"})):
        response = http.post(url(sandbox, "provision/provider"), json=provider, headers=auth(), timeout=5)
        assert (response.status_code, response.content) == (200, b"")
    listed = http.get(url(sandbox, "provision/provider"), headers=auth(), timeout=5).json()
    providers = listed["settings"]["application"]["media"]["providers"]
    assert providers == [basic, dict(bearer, config={"bearer": "new"})]
    deleted = http.delete(url(sandbox, "provision/provider/bearer_provider"), headers=auth(), timeout=5)
    assert deleted.status_code == 200
    listed = http.get(url(sandbox, "provision/provider"), headers=auth(), timeout=5).json()
    assert [p["name"] for p in listed["settings"]["application"]["media"]["providers"]] == ["basic_media-provider"]
    for name in ("provider1", "with space", "x" * 201, ""):
        response = http.post(
            url(sandbox, "provision/provider"), json=dict(bearer, name=name), headers=auth(), timeout=5
        )
        assert response.status_code == 400 and response.json()["details"].startswith("name: "), name
    both = dict(bearer, config={"bearer": "x", "basic": {"username": "u", "password": "p"}})
    assert http.post(url(sandbox, "provision/provider"), json=both, headers=auth(), timeout=5).status_code == 400


def test_blacklist_pages_start_at_zero_with_100_numbers(http, sandbox, bot):
    numbers = [f"4673300{index:04d}" for index in range(250)]
    for start in range(0, 250, 20):
        chunk = {"numbers": numbers[start : start + 20]}
        assert http.post(url(sandbox, "provision/blacklist"), json=chunk, headers=auth(), timeout=5).status_code == 200

    def page(number=None):
        params = {} if number is None else {"page": number}
        return http.get(url(sandbox, "provision/blacklist"), params=params, headers=auth(), timeout=5)

    assert page().json()["numbers"] == [f"+{n}" for n in numbers[:100]]
    assert page(1).json()["numbers"] == [f"+{n}" for n in numbers[100:200]]
    assert len(page(2).json()["numbers"]) == 50 and page(3).json() == {"numbers": []}
    assert page(-1).status_code == 400 and page("x").status_code == 400
    http.delete(url(sandbox, "provision/blacklist"), json={"numbers": numbers[:20]}, headers=auth(), timeout=5)
    assert page().json()["numbers"][0] == f"+{numbers[20]}"


# --- callback store (whatsapp-callback-store.md) ---------------------------------------------------------------


def test_callback_store_status_and_notifications(http, sandbox, bot):
    message_id = send(http, sandbox, text()).json()["statuses"][0]["message_id"]
    first = sandbox.inject_inbound(BOT, NUMBER, text="one")
    second = sandbox.inject_inbound(BOT, "46732002244", text="two")
    third = sandbox.inject_inbound(BOT, NUMBER, text="three")
    assert sandbox.wait_for_callbacks(5)
    statuses = http.get(url(sandbox, f"callbacks/status/{message_id}"), headers=auth(), timeout=5).json()["results"]
    assert [result["statuses"][0]["state"] for result in statuses] == STATES
    unknown = http.get(url(sandbox, "callbacks/status/01UNKNOWN"), headers=auth(), timeout=5)
    assert unknown.json() == {"results": []}

    def notifications(**body):
        response = http.get(url(sandbox, "callbacks/notifications"), json=body, headers=auth(), timeout=5)
        assert response.status_code == 200, response.text
        return [result["notifications"][0]["message_id"] for result in response.json()["results"]]

    assert notifications() == [first, second, third]
    assert notifications(**{"from": f"+{NUMBER}"}) == [first, third]
    assert notifications(page=2, page_size=2) == [third]
    assert notifications(page=1, page_size=2) == [first, second]
    assert notifications(start_time="2018-10-02T12:57:37.205Z", end_time="2019-10-02T12:57:37.205Z") == []
    bad = http.get(url(sandbox, "callbacks/notifications"), json={"page": 0}, headers=auth(), timeout=5)
    assert bad.status_code == 400 and bad.json()["details"].startswith("page: ")


# --- stickerpacks (whatsapp-stickerpack-management.md) ----------------------------------------------------------


def test_stickerpacks_and_stickers(http, sandbox, bot):
    packs_url = url(sandbox, "stickerpacks")
    third = {"namespace": "third_party"}
    first_party = http.get(packs_url, headers=auth(), timeout=5).json()["stickerpacks"]
    assert len(first_party) == 1
    assert http.get(packs_url, params=third, headers=auth(), timeout=5).json() == {"stickerpacks": []}

    created = http.post(packs_url, json={"publisher": "Me", "name": "Pack"}, headers=auth(), timeout=5)
    assert created.status_code == 201
    pack_id = created.json()["id"]
    assert http.get(packs_url, params=third, headers=auth(), timeout=5).json() == {"stickerpacks": [{"id": pack_id}]}
    pack_url = f"{packs_url}/{pack_id}"
    assert http.get(pack_url, headers=auth(), timeout=5).status_code == 400  # default namespace is whatsapp
    patched = http.patch(pack_url, json={"name": "New name"}, headers=auth(), timeout=5)
    assert (patched.status_code, patched.content) == (200, b"")
    info = http.get(pack_url, params=third, headers=auth(), timeout=5).json()
    assert info == {"publisher": "Me", "name": "New name"}

    sticker = {"url": "https://example.com/sticker.webp", "emojis": ["\U0001f425", "\U0001f603"]}
    made = http.post(f"{pack_url}/stickers", json=sticker, headers=auth(), timeout=5)
    assert (made.status_code, made.json()) == (201, {"index": "0"})
    stickers = http.get(f"{pack_url}/stickers", params=third, headers=auth(), timeout=5).json()
    assert stickers == {"stickers": [{"index": "0"}]}
    detail = http.get(f"{pack_url}/stickers/0", params=third, headers=auth(), timeout=5).json()
    assert detail["emojis"] == sticker["emojis"] and detail["id"]
    updated = http.patch(f"{pack_url}/stickers/0", json={"emojis": ["\U0001f600"]}, headers=auth(), timeout=5)
    assert updated.status_code == 200
    detail = http.get(f"{pack_url}/stickers/0", params=third, headers=auth(), timeout=5).json()
    assert detail["emojis"] == ["\U0001f600"]
    too_many = http.post(
        f"{pack_url}/stickers", json=dict(sticker, emojis=["\U0001f600"] * 4), headers=auth(), timeout=5
    )
    assert too_many.status_code == 400 and too_many.json()["details"].startswith("emojis: ")
    assert http.delete(f"{pack_url}/stickers/0", headers=auth(), timeout=5).status_code == 200
    assert http.get(f"{pack_url}/stickers", params=third, headers=auth(), timeout=5).json() == {"stickers": []}

    assert http.delete(f"{packs_url}/{first_party[0]['id']}", headers=auth(), timeout=5).status_code == 400
    assert http.delete(pack_url, headers=auth(), timeout=5).status_code == 200
    assert http.get(pack_url, params=third, headers=auth(), timeout=5).status_code == 400
    bad = http.get(packs_url, params={"namespace": "mine"}, headers=auth(), timeout=5)
    assert bad.status_code == 400 and bad.json()["details"].startswith("namespace: ")
    missing = http.post(packs_url, json={"publisher": "Me"}, headers=auth(), timeout=5)
    assert missing.json()["details"] == "name: is required"


# --- legacy groups (whatsapp-api.yaml) ---------------------------------------------------------------------------


def test_groups_minimal(http, sandbox, bot):
    created = http.post(url(sandbox, "groups"), json={"subject": "Team"}, headers=auth(), timeout=5)
    assert created.status_code == 200
    [group_id] = http.get(url(sandbox, "groups"), headers=auth(), timeout=5).json()["groups"]
    group_url = url(sandbox, f"groups/{group_id}")
    assert http.patch(group_url, json={"subject": "Renamed"}, headers=auth(), timeout=5).status_code == 200
    info = http.get(group_url, headers=auth(), timeout=5).json()
    assert info["subject"] == "Renamed" and info["members"] == []
    not_member = http.post(f"{group_url}/admin", json={"numbers": [NUMBER]}, headers=auth(), timeout=5)
    assert not_member.status_code == 400
    sandbox.join_group(BOT, group_id, NUMBER)
    assert http.post(f"{group_url}/admin", json={"numbers": [NUMBER]}, headers=auth(), timeout=5).status_code == 200
    invite = http.get(f"{group_url}/invite", headers=auth(), timeout=5).json()["invite_link"]
    assert invite.startswith("https://chat.whatsapp.com/")
    assert send(http, sandbox, text(), to=[group_id]).json()["statuses"][0]["recipient"] == group_id
    assert http.delete(group_url, headers=auth(), timeout=5).status_code == 200
    assert http.get(url(sandbox, "groups"), headers=auth(), timeout=5).json() == {"groups": []}


# --- faults ---------------------------------------------------------------------------------------------------------


def test_503_burst_then_success(http, sandbox, bot):
    sandbox.faults.fail_next(2)
    first, second, third = (send(http, sandbox, text()) for _ in range(3))
    assert first.status_code == second.status_code == 503
    assert first.json()["message"] == "Service Unavailable" and first.json()["details"]
    assert third.status_code == 201
    assert sandbox.count("POST", "/messages") == 3
    assert [entry["status"] for entry in sandbox.requests_log] == [503, 503, 201]


def test_429_with_retry_after_only_on_matching_paths(http, sandbox, bot):
    sandbox.faults.fail_next(1, status=429, path_contains="/capability", retry_after=2)
    assert send(http, sandbox, text()).status_code == 201
    limited = http.post(url(sandbox, "capability"), json={"numbers": [NUMBER]}, headers=auth(), timeout=5)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert limited.json()["message"] == "Too Many Requests"
    assert http.post(url(sandbox, "capability"), json={"numbers": [NUMBER]}, headers=auth(), timeout=5).ok


def test_slow_responses(http, sandbox, bot):
    sandbox.faults.slow_next(2, 0.3)
    started = time.monotonic()
    assert send(http, sandbox, text()).status_code == 201
    assert time.monotonic() - started >= 0.3
    with pytest.raises(requests.Timeout):
        http.post(url(sandbox, "messages"), json={"to": [NUMBER], "message": text()}, headers=auth(), timeout=0.1)
    time.sleep(0.3)
    started = time.monotonic()
    assert send(http, sandbox, text()).status_code == 201
    assert time.monotonic() - started < 0.3


def test_dropped_connections(http, sandbox, bot):
    sandbox.faults.drop_next(1)
    with pytest.raises(requests.ConnectionError):
        send(http, sandbox, text())
    assert send(http, sandbox, text()).status_code == 201
    assert [entry["status"] for entry in sandbox.requests_log] == [None, 201]
    assert sandbox.requests_log[0]["fault"] == "drop"


# --- the HTTP control API ---------------------------------------------------------------------------------------------


def test_control_api_over_http(http, sandbox, receiver):
    control = f"{sandbox.base_url}/_sandbox"
    health = http.get(f"{control}/", timeout=5).json()
    assert health["status"] == "ok" and health["regions"]["eu"] == sandbox.region_url("eu")

    bot = {"bot_id": "http-bot", "token": "t", "region": "eu", "callback_url": receiver.url(), "callback_key": KEY}
    registered = http.post(f"{control}/bots", json=dict(bot, signature_encoding="hex"), timeout=5)
    assert registered.status_code == 201 and "token" not in registered.json()["bot"]
    assert [b["bot_id"] for b in http.get(f"{control}/bots", timeout=5).json()["bots"]] == ["http-bot"]

    inbound = http.post(f"{control}/inbound", json={"bot_id": "http-bot", "from": NUMBER, "text": "hi"}, timeout=5)
    assert inbound.status_code == 201
    assert http.post(f"{control}/wait", json={"timeout": 5}, timeout=10).json() == {"idle": True}
    [payload] = [verified(item) for item in receiver.received]
    assert payload["notifications"][0]["message_id"] == inbound.json()["message_id"]

    capability = {"bot_id": "http-bot", "number": NUMBER, "capable": False}
    assert http.post(f"{control}/capability", json=capability, timeout=5).status_code == 200
    fault = http.post(f"{control}/faults", json={"kind": "fail", "n": 1, "status": 503}, timeout=5)
    assert fault.json()["faults"][0]["kind"] == "fail"
    eu_capability = url(sandbox, "capability", region="eu", bot_id="http-bot")
    assert http.post(eu_capability, json={"numbers": [NUMBER]}, headers=auth("t"), timeout=5).status_code == 503
    answer = http.post(eu_capability, json={"numbers": [NUMBER]}, headers=auth("t"), timeout=5).json()
    assert answer == {"capabilities": [{"msisdn": NUMBER, "capable": False}]}

    log = http.get(f"{control}/requests", params={"method": "POST", "path_suffix": "/capability"}, timeout=5).json()
    assert log["count"] == 2 and [entry["status"] for entry in log["requests"]] == [503, 200]
    assert http.get(f"{control}/callbacks", timeout=5).json()["callbacks"][0]["status"] == 200
    assert http.post(f"{control}/faults", json={"kind": "explode"}, timeout=5).status_code == 400
    assert http.post(f"{control}/inbound", json={"bot_id": "ghost", "from": NUMBER}, timeout=5).status_code == 404

    assert http.post(f"{control}/reset", timeout=5).json() == {"status": "reset"}
    assert http.get(f"{control}/bots", timeout=5).json() == {"bots": []}
    assert http.get(f"{control}/requests", timeout=5).json() == {"count": 0, "requests": []}
    assert http.get(f"{control}/nothing", timeout=5).status_code == 404


def test_reset_forgets_pending_callbacks(http, receiver):
    with SandboxServer(step_delay=0.5) as slow:
        slow.register_bot(BOT, TOKEN, callback_url=receiver.url())
        body = {"to": [NUMBER], "message": text()}
        assert http.post(url(slow, "messages"), json=body, headers=auth(), timeout=5).status_code == 201
        slow.reset()
        assert slow.wait_for_callbacks(1)
        time.sleep(0.6)
        assert receiver.received == [] and slow.callback_log == [] and slow.requests_log == []


# --- standalone ------------------------------------------------------------------------------------------------------


def test_runs_standalone_without_django(tmp_path, http):
    code = "import sys, django_sinch_whatsapp.sandbox.__main__; print('django' in sys.modules)"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert imported.stdout.strip() == "False"

    bots = tmp_path / "bots.json"
    bots.write_text(json.dumps([{"bot_id": "cli-bot", "token": "cli-token", "region": "eu"}]))
    command = [sys.executable, "-m", "django_sinch_whatsapp.sandbox", "--port", "0", "--bots-file", str(bots)]
    command += ["--statuses-per-callback", "100", "--batch-window", "0.3"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        first_line = process.stdout.readline()
        base_url = first_line.strip().rsplit(" ", 1)[-1]
        assert base_url.startswith("http://127.0.0.1:")
        body = {"numbers": [NUMBER]}
        answer = http.post(
            f"{base_url}/eu1/whatsapp/v1/cli-bot/capability", json=body, headers=auth("cli-token"), timeout=5
        )
        assert answer.status_code == 200
        health = http.get(f"{base_url}/_sandbox/", timeout=5).json()
        assert health["callbacks"] == {"step_delay": 0.5, "statuses_per_callback": 100, "batch_window": 0.3}
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
