"""SinchWhatsAppClient: one method per Sinch WhatsApp endpoint.

It knows HTTP and JSON and nothing of our models. Every call has connect and
read timeouts; calls that are safe to repeat are retried with backoff and
jitter on connection errors, 429 and 5xx (honouring ``Retry-After``). A
``POST /messages`` is repeated only when Sinch cannot have acted on it: the
connection was never made, or Sinch answered 429/503.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from django.views.decorators.debug import sensitive_variables

from ..exceptions import (
    SinchAPIError,
    SinchBadRequest,
    SinchCredentialsUnusable,
    SinchNotFound,
    SinchRequestMayHaveBeenSent,
    SinchUnauthorized,
    SinchUnavailable,
    SinchUnexpectedAnswer,
)
from ..observability import record_call
from .groups import GroupsMixin
from .mixin import MAX_NUMBERS, numbers_body, response_json
from .provisioning import ProvisioningMixin
from .retry import RetryPolicy, parse_retry_after
from .session import HEADER_SAFE_RULE, build_session, header_safe
from .stickerpacks import StickerpackMixin
from .targets import UnsafeRequestTarget, check_target

logger = logging.getLogger("django_sinch_whatsapp.client")

#: whatsapp-message.md / whatsapp-capability.md / opt-in: 1 to 20 numbers per request.
MAX_NUMBERS_PER_REQUEST = MAX_NUMBERS
#: 429 "too many requests" means Sinch refused the request unread, so even a send may be repeated.
#: Any other answer means it reached Sinch: a send is then never repeated.
NOT_PROCESSED_STATUSES = (429,)
#: Keys whose values are secrets in request and answer bodies (whatsapp-media-provider.md).
SECRET_BODY_KEYS = frozenset({"password", "bearer"})


@dataclass(frozen=True)
class MessageStatus:
    """One entry of the 201 answer to ``POST /messages``: a Sinch id per recipient."""

    message_id: str
    recipient: str
    status: str
    state: str


@dataclass(frozen=True)
class CapabilityResult:
    msisdn: str
    capable: bool


class SinchWhatsAppClient(ProvisioningMixin, StickerpackMixin, GroupsMixin):
    """A bot's view of the Sinch WhatsApp API.

    ``base_url`` is the region host (``https://eu1.whatsapp.api.sinch.com``)
    or a sandbox URL. The token is kept private and never appears in reprs,
    logs or errors.

    Messages, mark-as-read, opt-in/out and capability are defined here; media
    providers, blacklist and the callback store come from
    :class:`.provisioning.ProvisioningMixin`, stickerpacks from
    :class:`.stickerpacks.StickerpackMixin`, and the deprecated groups from
    :class:`.groups.GroupsMixin`. Typed answers are in :mod:`.results`.

    ``allowed_hosts``, when given, is the only hosts the client talks to: every
    request URL is read with urllib3's parser (the one that connects) and
    refused with :class:`.targets.UnsafeRequestTarget`, before anything is
    sent, when it is ambiguous or its host is not listed. A plain URL is
    required even without a list.
    """

    @sensitive_variables("token")
    def __init__(
        self,
        bot_id: str,
        token: str,
        base_url: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        user_agent_suffix: str = "",
        log_http: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        allowed_hosts: Collection[str] | None = None,
    ) -> None:
        self.bot_id = bot_id
        self.allowed_hosts = tuple(allowed_hosts) if allowed_hosts is not None else None
        self.base_url = base_url.rstrip("/")
        self.timeout = (connect_timeout, read_timeout)
        self.retry = retry or RetryPolicy()
        self.log_http = log_http
        self._sleep = sleep
        self._session = build_session(token, user_agent_suffix=user_agent_suffix)
        # Checked where tokens enter (admin, API); a token stored some other way fails every call in our
        # error tree instead of raising UnicodeEncodeError from deep inside http.client.
        self._token_usable = header_safe(token)

    def __repr__(self) -> str:
        return f"<SinchWhatsAppClient bot_id={self.bot_id!r} base_url={self.base_url!r}>"

    def close(self) -> None:
        self._session.close()

    # -- transport ---------------------------------------------------------

    def path(self, suffix: str) -> str:
        return f"/whatsapp/v1/{quote(self.bot_id, safe='')}/{suffix.lstrip('/')}"

    def request(
        self,
        method: str,
        suffix: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | None = None,
        idempotent: bool,
    ) -> requests.Response:
        """Make one call, retrying as its idempotency allows; raise the error tree."""
        path = self.path(suffix)
        url = self.base_url + path
        if not self._token_usable:
            raise SinchCredentialsUnusable(
                "The bot's bearer token cannot be sent",
                f"it has a character HTTP headers cannot carry ({HEADER_SAFE_RULE}); nothing was sent",
                method=method,
                path=path,
            )
        try:
            check_target(url, self.allowed_hosts)
        except UnsafeRequestTarget as err:
            raise UnsafeRequestTarget(err.reason, method=method, path=path) from None
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                # allow_redirects=False: Sinch documents no redirect, and following one would hand the
                # bearer token to whatever host it names (a 3xx is raised below as an error).
                response = self._session.request(
                    method, url, json=json_body, params=params, timeout=self.timeout, allow_redirects=False
                )
            except (UnicodeError, requests.exceptions.InvalidHeader) as err:
                # A header we could not encode (e.g. USER_AGENT_SUFFIX): nothing left this process.
                raise SinchCredentialsUnusable(
                    "A request header cannot be sent",
                    f"{type(err).__name__}: {HEADER_SAFE_RULE}; nothing was sent",
                    method=method,
                    path=path,
                ) from err
            except requests.RequestException as err:
                record_call(method, path, None, time.monotonic() - started, sinch_bot_id=self.bot_id)
                error = self._transport_error(err, method, path, idempotent)
                if attempt <= self.retry.total and (idempotent or _never_reached_server(err)):
                    self._wait(attempt, None, method, path, str(err.__class__.__name__))
                    continue
                raise error from err
            self._log(method, path, json_body, response, time.monotonic() - started)
            if 200 <= response.status_code < 300:
                return response
            if response.status_code < 400:
                # whatsapp-introduction.md documents 2xx answers and 4xx/5xx errors only: a redirect (or
                # anything else) is an error, never success, and is not followed.
                raise _unexpected_answer(response, method, path)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            retryable = response.status_code in self.retry.statuses and (
                idempotent or response.status_code in NOT_PROCESSED_STATUSES
            )
            if retryable and attempt <= self.retry.total and (retry_after or 0) <= self.retry.backoff_max:
                # A Retry-After longer than our ceiling is not slept through in a request: raise, carrying it.
                self._wait(attempt, retry_after, method, path, f"HTTP {response.status_code}")
                continue
            raise _error_from_response(response, method, path, retry_after)

    def _wait(self, attempt: int, retry_after: float | None, method: str, path: str, reason: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        logger.info("Sinch %s %s failed (%s); retry %d in %.2fs", method, path, reason, attempt, delay)
        self._sleep(delay)

    def _transport_error(self, err: Exception, method: str, path: str, idempotent: bool) -> SinchUnavailable:
        kind = type(err).__name__
        if not idempotent and not _never_reached_server(err):
            return SinchRequestMayHaveBeenSent(
                "No answer from Sinch",
                f"{kind} after the request may have reached Sinch; it was not re-sent",
                method=method,
                path=path,
            )
        return SinchUnavailable("Sinch could not be reached", kind, method=method, path=path)

    def _log(self, method: str, path: str, body: Any, response: requests.Response, seconds: float) -> None:
        logger.debug("Sinch %s %s -> %s in %.3fs", method, path, response.status_code, seconds)
        record_call(method, path, response.status_code, seconds, sinch_bot_id=self.bot_id)
        if self.log_http and logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "Sinch request %s %s headers=%s body=%s; answer %s",
                method,
                path,
                _redacted_headers(response.request.headers),
                json.dumps(redact_body(body))[:4000] if body is not None else "",
                json.dumps(redact_body(response_json(response)))[:4000] if response.content else "",
            )

    # -- messages (whatsapp-message.md) -----------------------------------

    def send_message(
        self, to: Sequence[str], message: dict[str, Any], *, callback: str | None = None
    ) -> list[MessageStatus]:
        """``POST /messages`` for 1 to 20 recipients; one status per recipient."""
        numbers_body(to, "to")
        body: dict[str, Any] = {"to": list(to), "message": message}
        if callback:
            body["callback"] = callback
        response = self.request("POST", "messages", json_body=body, idempotent=False)
        data = response_json(response)
        statuses = data.get("statuses") if isinstance(data, dict) else None
        if not isinstance(statuses, list):
            raise SinchAPIError(
                "Unexpected answer",
                "201 without a statuses list",
                status_code=response.status_code,
                method="POST",
                path=self.path("messages"),
                response_text=response.text,
            )
        return [
            MessageStatus(
                message_id=str(item.get("message_id", "")),
                recipient=str(item.get("recipient", "")),
                status=str(item.get("status", "")),
                state=str(item.get("state", "")),
            )
            for item in statuses
            if isinstance(item, dict)
        ]

    def mark_as_read(self, message_id: str) -> None:
        """``POST /events`` (whatsapp-callback.md, "Mark inbound message as read")."""
        self.request("POST", "events", json_body={"type": "read", "message_id": message_id}, idempotent=True)

    # -- opt-in (whatsapp-opt-in-and-outs.md) -------------------------------

    def opt_in(self, numbers: Sequence[str]) -> None:
        numbers_body(numbers, "numbers")
        self.request("POST", "provision/optin", json_body={"numbers": list(numbers)}, idempotent=True)

    def opt_out(self, numbers: Sequence[str]) -> None:
        """``DELETE /provision/optin``, the current way to opt numbers out."""
        numbers_body(numbers, "numbers")
        self.request("DELETE", "provision/optin", json_body={"numbers": list(numbers)}, idempotent=True)

    def opt_out_deprecated(self, numbers: Sequence[str]) -> None:
        """``POST /provision/optout``: deprecated upstream; kept for old accounts."""
        numbers_body(numbers, "numbers")
        self.request("POST", "provision/optout", json_body={"numbers": list(numbers)}, idempotent=True)

    # -- capability (whatsapp-capability.md) --------------------------------

    def capability(self, numbers: Sequence[str], *, method: str = "POST") -> list[CapabilityResult]:
        """Capability of 1 to 20 numbers. ``GET`` carries a JSON body, as the page says."""
        numbers_body(numbers, "numbers")
        response = self.request(method, "capability", json_body={"numbers": list(numbers)}, idempotent=True)
        data = response_json(response)
        items = data.get("capabilities", []) if isinstance(data, dict) else []
        return [
            CapabilityResult(msisdn=str(item.get("msisdn", "")), capable=bool(item.get("capable")))
            for item in items
            if isinstance(item, dict)
        ]


def _never_reached_server(err: Exception) -> bool:
    """True when the request certainly was not received: no connection was made."""
    if isinstance(err, (requests.ConnectTimeout, requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema)):
        return True
    if isinstance(err, requests.ConnectionError) and not isinstance(err, requests.ReadTimeout):
        text = repr(err)
        return any(
            marker in text
            for marker in ("NewConnectionError", "Connection refused", "Name or service not known", "Failed to resolve")
        )
    return False


def redact_body(value: Any) -> Any:
    """A copy of a JSON body with media provider passwords and bearer tokens replaced."""
    if isinstance(value, dict):
        return {k: "********" if k in SECRET_BODY_KEYS else redact_body(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_body(item) for item in value]
    return value


def _redacted_headers(headers: Any) -> dict[str, str]:
    return {k: ("Bearer ********" if k.lower() == "authorization" else v) for k, v in dict(headers).items()}


def _unexpected_answer(response: requests.Response, method: str, path: str) -> SinchUnexpectedAnswer:
    location = response.headers.get("Location", "")
    details = f"HTTP {response.status_code} {response.reason or ''}".strip()
    details += " is not an answer Sinch documents; redirects are not followed"
    if location:
        details += f" (Location: {location[:200]})"
    return SinchUnexpectedAnswer(
        "Unexpected answer",
        details,
        status_code=response.status_code,
        method=method,
        path=path,
        response_text=response.text,
    )


def _error_from_response(
    response: requests.Response, method: str, path: str, retry_after: float | None
) -> SinchAPIError:
    data = response_json(response)
    message = str(data.get("message", "")) if isinstance(data, dict) else ""
    details = str(data.get("details", "")) if isinstance(data, dict) else ""
    if not message:
        message = response.reason or f"HTTP {response.status_code}"
    kwargs: dict[str, Any] = {
        "status_code": response.status_code,
        "method": method,
        "path": path,
        "response_text": response.text,
    }
    status = response.status_code
    if status == 400:
        return SinchBadRequest(message, details, **kwargs)
    if status in (401, 403):
        return SinchUnauthorized(message, details, **kwargs)
    if status == 404:
        return SinchNotFound(message, details, **kwargs)
    if status == 429 or status >= 500:
        return SinchUnavailable(message, details, retry_after=retry_after, **kwargs)
    return SinchAPIError(message, details, **kwargs)
