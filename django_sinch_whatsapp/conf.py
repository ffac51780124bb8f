"""One lazy, typed view of ``settings.SINCH_WHATSAPP``.

Every value is read when it is used (not at import), so ``override_settings``
works in tests and a project can change settings without reloading us.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings as django_settings

#: whatsapp-introduction.md, "Base URL": the two regions are not interchangeable.
SINCH_REGION_BASE_URLS: dict[str, str] = {
    "us": "https://us1.whatsapp.api.sinch.com",
    "eu": "https://eu1.whatsapp.api.sinch.com",
}

DEFAULTS: dict[str, Any] = {
    # Base URL per region. A project may point them at the sandbox
    # (``http://127.0.0.1:8765/us1``) but the keys must stay ``us`` and ``eu``.
    "REGION_BASE_URLS": dict(SINCH_REGION_BASE_URLS),
    # Seconds to wait for the TCP connection, and for each read of the answer.
    "CONNECT_TIMEOUT": 5.0,
    "READ_TIMEOUT": 30.0,
    # Retries of calls that are safe to repeat (never a POST /messages that may
    # have reached Sinch): attempts after the first, exponential backoff factor
    # in seconds, its ceiling, and the statuses that are retried.
    "RETRY_TOTAL": 3,
    "RETRY_BACKOFF_FACTOR": 0.5,
    "RETRY_BACKOFF_MAX": 30.0,
    "RETRY_STATUSES": (429, 500, 502, 503, 504),
    # Fernet keys (urlsafe base64, 32 bytes) for secrets at rest. The first
    # encrypts; all decrypt, so a new key goes first and old ones follow.
    "ENCRYPTION_KEYS": [],
    # The model that owns bots ("app_label.ModelName"). Defaults to
    # AUTH_USER_MODEL; a SaaS points it at its Organization/Account model.
    "TENANT_MODEL": None,
    # Public origin of this site, e.g. "https://api.example.com". When set,
    # every message carries its bot's webhook URL as the Sinch ``callback``.
    "PUBLIC_BASE_URL": "",
    # Refuse callbacks for bots that have no signing key. Verification is
    # never relaxed by DEBUG; this is the only switch.
    "REQUIRE_SIGNED_CALLBACKS": True,
    # Callback bodies larger than this are refused with 400 and not stored.
    "MAX_CALLBACK_BODY_BYTES": 1_048_576,
    # How an accepted message reaches Sinch: "inline" (in this process, right
    # after the transaction commits) or "celery" (a task per request batch).
    "DISPATCH_BACKEND": "inline",
    # Log each Sinch request and answer at DEBUG (the token is always redacted).
    "LOG_HTTP": False,
    # Extra text appended to our User-Agent, e.g. "my-saas/2.1".
    "USER_AGENT_SUFFIX": "",
    # Mark every new inbound message as read at Sinch (POST /events), so the
    # sender sees two blue ticks, right after it is stored.
    "AUTO_MARK_READ": False,
    # Download inbound media (image, document, audio, video, voice, sticker)
    # into Django storage: Sinch's media URLs expire after seven days.
    "INBOUND_MEDIA_DOWNLOAD": False,
    # Largest inbound media file downloaded, in bytes (larger ones are skipped
    # and the reason recorded). Sinch accepts up to 100 MB.
    "INBOUND_MEDIA_MAX_BYTES": 20 * 1024 * 1024,
    # Storage alias (settings.STORAGES) and path prefix for downloaded media.
    "INBOUND_MEDIA_STORAGE": "default",
    "INBOUND_MEDIA_PATH": "sinch_whatsapp/inbound",
    # Hosts a bot's base URL override may point at (the sandbox, a test proxy).
    # Anything else is refused: an override to a foreign host would hand it the
    # bot's bearer token. Sinch's own hosts come from REGION_BASE_URLS.
    "BASE_URL_OVERRIDE_HOSTS": ("127.0.0.1", "localhost", "::1"),
    # Dotted path to ``f(user) -> iterable of tenants (or their pks)`` the user
    # may act for in the API. None: the user is the tenant (TENANT_MODEL is the
    # user model); with another TENANT_MODEL this must be set.
    "TENANT_RESOLVER": None,
    # Idempotency keys of sends are kept this many hours (at least 24): a
    # repeat within that time returns the first answer and sends nothing.
    "IDEMPOTENCY_KEY_HOURS": 48,
    # Seconds a repeat waits for the first request with the same key to finish
    # before it answers 409 "in progress".
    "IDEMPOTENCY_WAIT_SECONDS": 10.0,
    # DRF authentication classes of the API views (dotted paths).
    "API_AUTHENTICATION_CLASSES": (
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ),
}


@dataclass(frozen=True)
class _Missing:
    name: str


class SinchWhatsAppSettings:
    """Attribute access to ``SINCH_WHATSAPP`` with defaults, read at use time."""

    def _user_settings(self) -> dict[str, Any]:
        value = getattr(django_settings, "SINCH_WHATSAPP", {}) or {}
        if not isinstance(value, dict):
            return {}
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"SINCH_WHATSAPP has no setting {name!r}")
        user = self._user_settings()
        if name in user:
            return user[name]
        default = DEFAULTS[name]
        if name == "TENANT_MODEL" and default is None:
            return django_settings.AUTH_USER_MODEL
        if isinstance(default, dict):
            return dict(default)
        if isinstance(default, list):
            return list(default)
        return default

    def unknown_keys(self) -> list[str]:
        return sorted(set(self._user_settings()) - set(DEFAULTS))

    def region_base_url(self, region: str) -> str:
        urls = self.REGION_BASE_URLS
        try:
            return str(urls[region]).rstrip("/")
        except KeyError:
            raise KeyError(f"no base URL for region {region!r}") from None


app_settings = SinchWhatsAppSettings()
