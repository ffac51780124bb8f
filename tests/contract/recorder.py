"""Capture every request the package's Sinch clients put on the wire: both transports.

:meth:`Recorder.install` wraps ``requests.Session.send``; the wrapper records only the package's own
clients, so the webhook calls, the sandbox's callbacks and the tests' own ``requests.get`` are left
alone: sessions made by ``django_sinch_whatsapp.client.session.build_session`` (recognised by their
``BearerAuth``, which nothing else uses) for the standalone API, and requests of the Conversation API
client (its User-Agent is the package's, its path ``/v1/projects/...``; the OAuth token endpoint is not
the API and is not recorded). What is kept is what the contract is about: method, path (with the base
URL and any sandbox prefix such as ``/us1`` or ``/conversation/us`` taken off), query, JSON body and
headers; the Authorization header is reduced to its scheme, so no token is ever stored.

Recording is cheap (no validation on the sending thread); the plugin validates between tests.
"""

from __future__ import annotations

import functools
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from django_sinch_whatsapp.client.session import USER_AGENT, BearerAuth

from .validate import NO_BODY, NotJSON, Verdict, Violation, check

API_ROOT = "/whatsapp/v1/"
CONVERSATION_ROOT = "/v1/projects/"
#: Which contract a recorded request is checked against.
WHATSAPP, CONVERSATION = "whatsapp", "conversation"
OUTSIDE_TESTS = "<outside any test>"


@dataclass
class RecordedRequest:
    number: int
    method: str
    url: str
    prefix: str  # what stood between the base URL's host and /whatsapp/v1/, e.g. "/us1" on the sandbox
    path: str
    query: dict[str, list[str]]
    body: Any  # parsed JSON, NO_BODY, or NotJSON
    headers: dict[str, str]  # without Authorization
    auth_scheme: str | None  # "Bearer" when an Authorization header was sent
    test: str
    exempt: bool
    timeout: Any = None  # what the client passed to requests: must be (connect, read)
    api: str = WHATSAPP  # which contract: the standalone API's or the Conversation API's
    verdict: Verdict | None = field(default=None, repr=False)

    def validate(self) -> Verdict:
        if self.verdict is None:
            if self.api == CONVERSATION:
                self.verdict = _conversation_verdict(self)
            else:
                headers = dict(self.headers)
                if self.auth_scheme:
                    headers["Authorization"] = f"{self.auth_scheme} <redacted>"
                self.verdict = check(self.method, self.path, query=self.query, body=self.body, headers=headers)
            if not _has_both_timeouts(self.timeout):
                # Ours, not Sinch's: no call may wait forever (issue 3, "Transport robustness").
                self.verdict.violations.append(
                    Violation(
                        rule="timeouts",
                        where="requests timeout",
                        detail=f"got {self.timeout!r}; every call needs (connect, read) timeouts",
                        source="DESIGN.md rule 4",
                    )
                )
        return self.verdict

    def describe(self, limit: int = 400) -> str:
        query = "?" + "&".join(f"{k}={v}" for k, values in self.query.items() for v in values) if self.query else ""
        line = f"{self.method} {self.prefix}{self.path}{query}"
        if self.body is not NO_BODY:
            body = self.body.text if isinstance(self.body, NotJSON) else _redacted(self.body)
            text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
            line += f"  body={text[:limit]}{'…' if len(text) > limit else ''}"
        return line


def _conversation_verdict(record: RecordedRequest) -> Verdict:
    """conversation-api.yaml with the docs README's patches (:mod:`tests.contract.conversation`)."""
    from .conversation import check_request, operation_for

    verdict = Verdict(record.method, record.path)
    known, schema = operation_for(record.method, record.path)
    verdict.operation = (schema or f"{record.method} {record.path}") if known else None
    body = None if record.body is NO_BODY else record.body.text if isinstance(record.body, NotJSON) else record.body
    for text in check_request(record.method, record.path, body):
        rule, _, rest = text.partition("] ")
        where, _, detail = rest.partition(": ")
        verdict.violations.append(
            Violation(rule=rule.lstrip("["), where=where, detail=detail, source="conversation-api.yaml + README")
        )
    if record.auth_scheme != "Bearer":
        detail = f"got {record.auth_scheme or 'no Authorization'}; the API takes an OAuth2 bearer token"
        verdict.violations.append(Violation("auth", "Authorization", detail, "sinch-conversation-docs README"))
    return verdict


def _has_both_timeouts(timeout: Any) -> bool:
    if isinstance(timeout, (int, float)):
        return timeout > 0
    return (
        isinstance(timeout, tuple)
        and len(timeout) == 2
        and all(isinstance(part, (int, float)) and part > 0 for part in timeout)
    )


# Media provider credentials (whatsapp-media-provider.md: config.basic.password, config.bearer) are
# kept for validation but never printed.
_SECRET_MEMBERS = frozenset({"password", "bearer"})


def _redacted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "********" if k in _SECRET_MEMBERS else _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def _body(raw: Any) -> Any:
    if raw is None or raw == b"" or raw == "":
        return NO_BODY
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return NotJSON(repr(raw[:200]))
    if not isinstance(raw, str):
        return NotJSON(f"<{type(raw).__name__} stream>")
    try:
        return json.loads(raw)
    except ValueError:
        return NotJSON(raw[:400])


class Recorder:
    """Collects :class:`RecordedRequest` objects from every thread; the plugin sets :attr:`context`."""

    def __init__(self) -> None:
        self.records: list[RecordedRequest] = []
        self.context: tuple[str, bool] = (OUTSIDE_TESTS, False)  # (test node id, exempt)
        self.errors: list[str] = []
        self._pending: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._original: Any = None

    def install(self) -> None:
        if self._original is not None:
            return
        original = self._original = requests.Session.send
        recorder = self

        @functools.wraps(original)
        def send(session: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
            if isinstance(session.auth, BearerAuth):
                recorder.capture(request, kwargs.get("timeout"))
            elif _is_conversation_call(request):
                recorder.capture(request, kwargs.get("timeout"), api=CONVERSATION)
            return original(session, request, **kwargs)

        requests.Session.send = send  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            requests.Session.send = self._original  # type: ignore[method-assign]
            self._original = None

    def capture(self, request: requests.PreparedRequest, timeout: Any = None, *, api: str = WHATSAPP) -> None:
        """Record one prepared request; never raises into the client's call."""
        test, exempt = self.context
        try:
            parts = urlsplit(request.url or "")
            start = parts.path.find(CONVERSATION_ROOT if api == CONVERSATION else API_ROOT)
            prefix, path = (parts.path[:start], parts.path[start:]) if start >= 0 else ("", parts.path)
            authorization = request.headers.get("Authorization")
            record = RecordedRequest(
                number=next(self._numbers),
                method=(request.method or "").upper(),
                url=f"{parts.scheme}://{parts.netloc}{parts.path}",
                prefix=prefix,
                path=path,
                query=parse_qs(parts.query, keep_blank_values=True),
                body=_body(request.body),
                headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
                auth_scheme=authorization.split(" ", 1)[0] if authorization else None,
                test=test,
                exempt=exempt,
                timeout=timeout,
                api=api,
            )
        except Exception as err:  # a recorder bug must show up, not break the test's request
            with self._lock:
                self.errors.append(f"{test}: could not record {request.method} {request.url}: {err!r}")
            return
        with self._lock:
            self.records.append(record)
            self._pending.append(record)

    def take_pending(self) -> list[RecordedRequest]:
        """The requests recorded since the last call, in the order they were sent."""
        with self._lock:
            pending, self._pending = self._pending, []
        return pending


def _is_conversation_call(request: requests.PreparedRequest) -> bool:
    """A Conversation API call of the package's client: its User-Agent, an API path (not the token endpoint)."""
    agent = str(request.headers.get("User-Agent", ""))
    return agent.startswith(USER_AGENT) and CONVERSATION_ROOT in urlsplit(request.url or "").path
