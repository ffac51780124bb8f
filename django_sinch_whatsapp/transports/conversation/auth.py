"""OAuth2 client-credentials tokens for the Conversation API, one per access key, shared through the Django cache.

docs README, "Auth": ``POST https://auth.sinch.com/oauth2/token`` with HTTP Basic
``key_id:key_secret`` and ``grant_type=client_credentials`` answers
``{"access_token", "token_type": "Bearer", "expires_in": 3600}``. The endpoint is
rate limited (a bucket of about 30, refilled at about 10/s, no ``Retry-After``), so:

* every process reads the token from the cache (``CONVERSATION_TOKEN_CACHE``;
  use a shared backend such as Redis or the database cache) and only asks for a
  new one when it is missing or about to expire (``CONVERSATION_TOKEN_REFRESH_MARGIN``);
* one process refreshes at a time: ``cache.add`` of a lock key is the mutex
  (atomic on every shared backend), and the others wait for the token it stores;
* a 429 from the token endpoint is retried with exponential backoff and full jitter.

The secret and the tokens never appear in reprs, logs or exceptions.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from django.core.cache import caches

from ...client.retry import RetryPolicy
from ...exceptions import SinchAPIError, SinchUnavailable
from ..errors import ConversationUnauthorized

logger = logging.getLogger("django_sinch_whatsapp.transports.conversation.auth")

#: How often a process waiting for another's refresh looks at the cache again.
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class AccessKey:
    """A Sinch access key (dashboard, Settings > Access keys); the secret is write-only."""

    key_id: str
    key_secret: str = field(repr=False)

    def __repr__(self) -> str:
        return f"AccessKey(key_id={self.key_id!r}, key_secret='********')"


class TokenProvider:
    """Hands out a valid bearer token for one access key; safe across threads and processes."""

    def __init__(
        self,
        key: AccessKey,
        token_url: str,
        *,
        session: requests.Session | None = None,
        cache_alias: str = "default",
        refresh_margin: float = 300.0,
        lock_timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.token_url = token_url
        self.cache_alias = cache_alias
        self.refresh_margin = refresh_margin
        self.lock_timeout = lock_timeout
        self.retry = retry or RetryPolicy(total=5, backoff_factor=0.2, backoff_max=5.0, statuses=(429,))
        self.timeout = timeout
        self._sleep = sleep
        self._session = session or requests.Session()
        # The key id and the token URL name the token (a sandbox token never serves Sinch), and so does
        # the secret: a bot with the right key id but a wrong secret must not ride on another bot's
        # token. Hashed, so the cache never holds the secret and any backend accepts the key.
        digest = hashlib.sha256(f"{token_url}\0{key.key_id}\0{key.key_secret}".encode()).hexdigest()[:32]
        self.cache_key = f"django_sinch_whatsapp:conversation:token:{digest}"
        self.lock_key = f"{self.cache_key}:lock"

    def __repr__(self) -> str:
        return f"<TokenProvider key_id={self.key.key_id!r} token_url={self.token_url!r}>"

    @property
    def _cache(self) -> Any:
        return caches[self.cache_alias]

    def token(self) -> str:
        """A token valid for at least the refresh margin (or half its lifetime, when that is shorter)."""
        entry = self._cache.get(self.cache_key)
        if _fresh(entry):
            return str(entry["access_token"])
        return self._refresh()

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after Sinch said it expired, unless another process already replaced it."""
        entry = self._cache.get(self.cache_key)
        if isinstance(entry, dict) and entry.get("access_token") == token:
            self._cache.delete(self.cache_key)

    # -- refreshing -------------------------------------------------------------------------------------

    def _refresh(self) -> str:
        owner = secrets.token_hex(8)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            if self._cache.add(self.lock_key, owner, timeout=self.lock_timeout):
                try:
                    # Another process may have stored a token between our read and our lock.
                    entry = self._cache.get(self.cache_key)
                    if _fresh(entry):
                        return str(entry["access_token"])
                    return self._fetch_and_store()
                finally:
                    if self._cache.get(self.lock_key) == owner:
                        self._cache.delete(self.lock_key)
            self._sleep(POLL_SECONDS)
            entry = self._cache.get(self.cache_key)
            if _fresh(entry):
                return str(entry["access_token"])
            if time.monotonic() > deadline:
                # The lock holder died or hangs; its lock expires by itself, but do not wait for that.
                logger.warning("Conversation token refresh lock for key %s timed out; fetching", self.key.key_id)
                return self._fetch_and_store()

    def _fetch_and_store(self) -> str:
        token, expires_in = self._fetch()
        now = time.time()
        refresh_after = max(expires_in - self.refresh_margin, expires_in / 2)
        entry = {"access_token": token, "refresh_at": now + refresh_after, "expires_at": now + expires_in}
        self._cache.set(self.cache_key, entry, timeout=max(1, int(expires_in)))
        return token

    def _fetch(self) -> tuple[str, float]:
        path = _path_of(self.token_url)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._session.post(
                    self.token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(self.key.key_id, self.key.key_secret),
                    headers={"Accept": "application/json"},
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as err:
                # Asking for a token is safe to repeat.
                if attempt <= self.retry.total:
                    self._sleep(self.retry.delay(attempt))
                    continue
                raise SinchUnavailable(
                    "Sinch's token endpoint could not be reached", type(err).__name__, method="POST", path=path
                ) from err
            if response.status_code == 200:
                return _token_from(response, path)
            if response.status_code in (429, 500, 502, 503, 504) and attempt <= self.retry.total:
                logger.info("Conversation token endpoint answered %s; retry %d", response.status_code, attempt)
                self._sleep(self.retry.delay(attempt))
                continue
            raise _token_error(response, path)


def _fresh(entry: Any) -> bool:
    return (
        isinstance(entry, dict) and bool(entry.get("access_token")) and float(entry.get("refresh_at", 0)) > time.time()
    )


def _path_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path or "/"


def _token_from(response: requests.Response, path: str) -> tuple[str, float]:
    try:
        data = response.json()
        token = str(data["access_token"])
        expires_in = float(data.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError) as err:
        raise SinchAPIError(
            "Unexpected answer from the token endpoint",
            "200 without access_token",
            status_code=200,
            method="POST",
            path=path,
        ) from err
    if not token or expires_in <= 0:
        raise SinchAPIError("Unexpected answer from the token endpoint", "empty token", status_code=200, path=path)
    return token, expires_in


def _token_error(response: requests.Response, path: str) -> SinchAPIError:
    # The OAuth error body is {"error": "...", "error_description": "..."}; it never echoes the secret,
    # but only those two fields are kept, short, to be sure nothing else leaks.
    try:
        data = response.json()
    except ValueError:
        data = {}
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):  # the API's own error shape
        message, details = str(error.get("message", "")), str(error.get("status", ""))
    else:
        message = str(error or "")
        details = str(data.get("error_description", "")) if isinstance(data, dict) else ""
    kwargs: dict[str, Any] = {"status_code": response.status_code, "method": "POST", "path": path}
    if response.status_code in (401, 403):
        return ConversationUnauthorized(
            message[:200] or "The token endpoint refused the access key", details[:500], **kwargs
        )
    if response.status_code == 429 or response.status_code >= 500:
        return SinchUnavailable(message[:200] or "The token endpoint is unavailable", details[:500], **kwargs)
    return SinchAPIError(message[:200] or "The token endpoint refused the request", details[:500], **kwargs)
