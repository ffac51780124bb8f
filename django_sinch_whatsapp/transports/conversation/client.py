"""ConversationClient: the Conversation API endpoints a WhatsApp bot uses, over one ``requests.Session``.

Hosts are ``https://{region}.conversation.api.sinch.com`` for ``us``, ``eu`` and
``br`` (docs README, "Regions"), or a base URL override (the sandbox), whose
``/oauth2/token`` then also serves the tokens. Every call has connect and read
timeouts and follows no redirect (a redirect would carry the bearer token
elsewhere). Calls that are safe to repeat are retried on connection errors,
429 and 5xx; ``messages:send`` and ``events:send`` only when Sinch cannot have
acted on them (no connection made, or 429), and once after a 401 saying the
token expired (a 401 means nothing was accepted).

Errors (``{"error": {"code", "message", "status", "details"}}``) become our
error tree: 400 ``SinchBadRequest``, 401 ``ConversationUnauthorized``, 403
``ConversationForbidden``, 404 ``ConversationNotFound`` (with the wrong-region
hint), 429/5xx ``SinchUnavailable``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from ...client.retry import RetryPolicy, parse_retry_after
from ...client.session import USER_AGENT, Session
from ...exceptions import SinchAPIError, SinchBadRequest, SinchRequestMayHaveBeenSent, SinchUnavailable
from ...observability import record_call
from ..errors import ConsentRegistrationNotFound, ConversationForbidden, ConversationNotFound, ConversationUnauthorized
from . import wire
from .auth import AccessKey, TokenProvider

logger = logging.getLogger("django_sinch_whatsapp.transports.conversation.client")

REGIONS = ("us", "eu", "br")
#: 429 means the request was refused unread: even a send may be repeated.
NOT_PROCESSED_STATUSES = (429,)


@dataclass(frozen=True)
class SendResult:
    """The answer to ``messages:send``: Sinch's id for the message and when it was accepted."""

    message_id: str
    accepted_time: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


class _BearerFromProvider(requests.auth.AuthBase):
    """Adds the current token at send time; its repr never shows it."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(********)"


def base_url_for(region: str, override: str = "") -> str:
    """The API origin for ``region`` (``CONVERSATION_REGION_BASE_URLS``), or the override."""
    if override:
        return override.rstrip("/")
    from ...conf import app_settings

    urls = app_settings.CONVERSATION_REGION_BASE_URLS
    if region not in urls:
        raise ValueError(f"region is {region!r}; the Conversation API regions are {', '.join(sorted(urls))}")
    return str(urls[region]).rstrip("/")


def token_url_for(override: str = "") -> str:
    """``{override}/oauth2/token`` when the bot has a base URL override, else ``CONVERSATION_AUTH_URL``."""
    if override:
        return override.rstrip("/") + "/oauth2/token"
    from ...conf import app_settings

    return str(app_settings.CONVERSATION_AUTH_URL)


class ConversationClient:
    """One Conversation API app (project + app id) reached with one access key."""

    def __init__(
        self,
        *,
        project_id: str,
        app_id: str,
        key: AccessKey,
        region: str = "us",
        base_url: str = "",
        token_provider: TokenProvider | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        user_agent_suffix: str = "",
        log_http: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        allowed_hosts: tuple[str, ...] | None = None,
    ) -> None:
        if not project_id or not app_id:
            raise ValueError("project_id and app_id are required for a Conversation API client")
        self.project_id = project_id
        self.app_id = app_id
        self.region = region
        self.base_url = base_url_for(region, base_url)
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self.log_http = log_http
        #: With a base URL override, the only hosts we talk to: checked before every request (and token fetch).
        self.allowed_hosts = allowed_hosts
        self._sleep = sleep
        self._session = Session()
        agent = USER_AGENT + (f" {user_agent_suffix}" if user_agent_suffix else "")
        self._session.headers.update({"User-Agent": agent, "Accept": "application/json"})
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=10, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self.tokens = token_provider or TokenProvider(
            key, token_url_for(base_url), session=self._session, timeout=self.timeout, sleep=sleep
        )

    @classmethod
    def from_settings(cls, **kwargs: Any) -> ConversationClient:
        """A client with the timeouts, retries and token cache of ``SINCH_WHATSAPP``."""
        from ...conf import app_settings

        retry = RetryPolicy(
            total=app_settings.RETRY_TOTAL,
            backoff_factor=app_settings.RETRY_BACKOFF_FACTOR,
            backoff_max=app_settings.RETRY_BACKOFF_MAX,
            statuses=tuple(app_settings.RETRY_STATUSES),
        )
        client = cls(
            connect_timeout=app_settings.CONNECT_TIMEOUT,
            read_timeout=app_settings.READ_TIMEOUT,
            retry=retry,
            user_agent_suffix=app_settings.USER_AGENT_SUFFIX,
            log_http=app_settings.LOG_HTTP,
            **kwargs,
        )
        token_retry = RetryPolicy(
            total=app_settings.CONVERSATION_TOKEN_RETRIES,
            backoff_factor=app_settings.CONVERSATION_TOKEN_BACKOFF_FACTOR,
            backoff_max=app_settings.RETRY_BACKOFF_MAX,
            statuses=(429,),
        )
        client.tokens = TokenProvider(
            kwargs["key"],
            token_url_for(kwargs.get("base_url", "")),
            session=client._session,
            cache_alias=app_settings.CONVERSATION_TOKEN_CACHE,
            refresh_margin=app_settings.CONVERSATION_TOKEN_REFRESH_MARGIN,
            lock_timeout=app_settings.CONVERSATION_TOKEN_LOCK_TIMEOUT,
            retry=token_retry,
            timeout=client.timeout,
        )
        return client

    def __repr__(self) -> str:
        return f"<ConversationClient project_id={self.project_id!r} app_id={self.app_id!r} base_url={self.base_url!r}>"

    def close(self) -> None:
        self._session.close()

    # -- transport ----------------------------------------------------------------------------------------

    def path(self, suffix: str) -> str:
        return f"/v1/projects/{quote(self.project_id, safe='')}/{suffix.lstrip('/')}"

    def request(
        self,
        method: str,
        suffix: str,
        *,
        json_body: Any = None,
        idempotent: bool,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """One call, retried as its idempotency allows; raises the error tree.

        ``params`` go in the query string, never in the logged and measured path.
        """
        path = self.path(suffix)
        url = self.base_url + path
        if self.allowed_hosts is not None:
            from ...client.targets import check_target

            check_target(self.base_url, self.allowed_hosts)  # raises UnsafeRequestTarget: nothing is sent
        attempt = 0
        renewed = False
        while True:
            attempt += 1
            token = self.tokens.token()
            started = time.monotonic()
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    auth=_BearerFromProvider(token),
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as err:
                record_call(method, path, None, time.monotonic() - started, sinch_bot_id=self.project_id)
                if attempt <= self.retry.total and (idempotent or _never_reached_server(err)):
                    self._wait(attempt, None, method, path, type(err).__name__)
                    continue
                raise _transport_error(err, method, path, idempotent) from err
            self._log(method, path, json_body, response, time.monotonic() - started)
            if response.status_code < 300:
                return response
            if response.status_code == 401 and not renewed and _token_expired(response):
                # docs README: tokens live an hour; one that expired early (revoked, clock skew) is renewed once.
                self.tokens.invalidate(token)
                renewed = True
                attempt -= 1
                continue
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            retryable = response.status_code in self.retry.statuses and (
                idempotent or response.status_code in NOT_PROCESSED_STATUSES
            )
            if retryable and attempt <= self.retry.total and (retry_after or 0) <= self.retry.backoff_max:
                self._wait(attempt, retry_after, method, path, f"HTTP {response.status_code}")
                continue
            raise error_from_response(response, method, path, retry_after)

    def _wait(self, attempt: int, retry_after: float | None, method: str, path: str, reason: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        logger.info("Sinch %s %s failed (%s); retry %d in %.2fs", method, path, reason, attempt, delay)
        self._sleep(delay)

    def _log(self, method: str, path: str, body: Any, response: requests.Response, seconds: float) -> None:
        logger.debug("Sinch %s %s -> %s in %.3fs", method, path, response.status_code, seconds)
        record_call(method, path, response.status_code, seconds, sinch_bot_id=self.project_id)
        if self.log_http and logger.isEnabledFor(logging.DEBUG):
            # Bodies carry no secret on this API; the Authorization header is never logged.
            logger.debug(
                "Sinch request %s %s body=%s; answer %s",
                method,
                path,
                json.dumps(body)[:4000] if body is not None else "",
                response.text[:4000],
            )

    # -- endpoints ----------------------------------------------------------------------------------------

    def send_message(self, body: dict[str, Any]) -> SendResult:
        """``POST messages:send`` with a body from :func:`.wire.send_body` (one recipient)."""
        response = self.request("POST", "messages:send", json_body=body, idempotent=False)
        data = _json(response)
        if not isinstance(data, dict) or not data.get("message_id"):
            raise SinchAPIError(
                "Unexpected answer",
                f"{response.status_code} without a message_id",
                status_code=response.status_code,
                method="POST",
                path=self.path("messages:send"),
                response_text=response.text,
            )
        return SendResult(str(data["message_id"]), str(data.get("accepted_time", "")), data)

    def get_message(self, message_id: str) -> dict[str, Any]:
        """``GET messages/{id}`` (reconciliation): the ConversationMessage as Sinch keeps it."""
        response = self.request("GET", f"messages/{quote(message_id, safe='')}", idempotent=True)
        data = _json(response)
        return data if isinstance(data, dict) else {}

    def mark_as_read(self, message_id: str, recipient: str) -> dict[str, Any]:
        """``events:send`` with a ``read_message_event`` for an inbound message of ``recipient``."""
        body = wire.read_event_body(
            project_id=self.project_id, app_id=self.app_id, message_id=message_id, recipient=recipient
        )
        # Marking read twice changes nothing: safe to repeat.
        data = _json(self.request("POST", "events:send", json_body=body, idempotent=True))
        return data if isinstance(data, dict) else {}

    def query_capability(self, recipient: str, request_id: str) -> dict[str, Any]:
        """``capability:query``; the answer arrives later in a ``capability_notification`` callback."""
        body = wire.capability_body(
            project_id=self.project_id, app_id=self.app_id, recipient=recipient, request_id=request_id
        )
        data = _json(self.request("POST", "capability:query", json_body=body, idempotent=True))
        return data if isinstance(data, dict) else {}

    def register_consent(self, kind: str, recipient: str, request_id: str = "") -> dict[str, Any]:
        """``optins:register`` / ``optouts:register`` (optional: the docs README says they may be gone for
        WhatsApp, which needs no opt-in registration; a 404 here means exactly that)."""
        if kind not in ("opt_in", "opt_out"):
            raise ValueError("kind must be 'opt_in' or 'opt_out'")
        endpoint = "optins:register" if kind == "opt_in" else "optouts:register"
        params = {"request_id": request_id} if request_id else None
        body = {"app_id": self.app_id, "channels": [wire.CHANNEL], "recipient": wire.recipient_object(recipient)}
        try:
            data = _json(self.request("POST", endpoint, json_body=body, idempotent=True, params=params))
        except ConversationNotFound as err:
            raise ConsentRegistrationNotFound(
                err.message,
                err.details,
                status_code=err.status_code,
                method=err.method,
                path=err.path,
                response_text=err.response_text,
            ) from err
        return data if isinstance(data, dict) else {}


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _token_expired(response: requests.Response) -> bool:
    """A 401 that says the token expired (WWW-Authenticate or the error text), not one for a bad key."""
    texts = [response.headers.get("WWW-Authenticate", "")]
    error = (_json(response) or {}).get("error") if isinstance(_json(response), dict) else None
    if isinstance(error, dict):
        texts.append(str(error.get("message", "")))
        texts.append(json.dumps(error.get("details", "")))
    return any("expired" in text.lower() for text in texts)


def _never_reached_server(err: Exception) -> bool:
    """True when the request certainly was not received: no connection was made."""
    if isinstance(err, (requests.ConnectTimeout, requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)):
        return True
    if isinstance(err, requests.ConnectionError) and not isinstance(err, requests.ReadTimeout):
        return any(marker in repr(err) for marker in ("NewConnectionError", "Connection refused", "Failed to resolve"))
    return False


def _transport_error(err: Exception, method: str, path: str, idempotent: bool) -> SinchUnavailable:
    kind = type(err).__name__
    if not idempotent and not _never_reached_server(err):
        return SinchRequestMayHaveBeenSent(
            "No answer from Sinch",
            f"{kind} after the request may have reached Sinch; it was not re-sent",
            method=method,
            path=path,
        )
    return SinchUnavailable("Sinch could not be reached", kind, method=method, path=path)


def error_from_response(
    response: requests.Response, method: str, path: str, retry_after: float | None = None
) -> SinchAPIError:
    """docs README, "Errors": ``{"error": {"code", "message", "status", "details"}}`` into our error tree."""
    data = _json(response)
    error = data.get("error") if isinstance(data, dict) else None
    message, details = "", ""
    if isinstance(error, dict):
        message = str(error.get("message") or "")
        parts = [str(error.get("status") or "")]
        if error.get("details"):
            parts.append(json.dumps(error["details"], ensure_ascii=False)[:1000])
        details = ": ".join(part for part in parts if part)
    elif isinstance(data, dict):  # anything else that looks like an error body
        message = str(data.get("message") or "")
        details = str(data.get("details") or "")
    kwargs: dict[str, Any] = {
        "status_code": response.status_code,
        "method": method,
        "path": path,
        "response_text": response.text,
    }
    status = response.status_code
    if status == 400:
        return SinchBadRequest(message, details, **kwargs)
    if status == 401:
        return ConversationUnauthorized(message, details, **kwargs)
    if status == 403:
        return ConversationForbidden(message, details, **kwargs)
    if status == 404:
        return ConversationNotFound(message, details, **kwargs)
    if status == 429 or status >= 500:
        return SinchUnavailable(message, details, retry_after=retry_after, **kwargs)
    return SinchAPIError(message, details, **kwargs)
