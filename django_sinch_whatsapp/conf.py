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

#: sinch-conversation-docs README.md, "Regions".
CONVERSATION_REGION_BASE_URLS: dict[str, str] = {
    "us": "https://us.conversation.api.sinch.com",
    "eu": "https://eu.conversation.api.sinch.com",
    "br": "https://br.conversation.api.sinch.com",
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
    # The webhook reads the body itself, so this is the only limit that applies
    # to callbacks (Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not). 1 MiB holds
    # a callback of 2,000 statuses (about 200 bytes each) with room to spare.
    "MAX_CALLBACK_BODY_BYTES": 1_048_576,
    # Seconds a process keeps a bot the webhook looked up by its callback URL (its keys
    # included): one query fewer per callback. A bot saved or deleted in this process is
    # seen at once; a change made elsewhere (another worker, QuerySet.update()) after at
    # most this long. 0 looks the bot up for every callback.
    "WEBHOOK_BOT_CACHE_SECONDS": 5.0,
    # On PostgreSQL the webhook prepares its statements once per database connection
    # (PREPARE, then EXECUTE): PostgreSQL then parses and plans a callback's statements
    # once, not per callback. Turn off behind a pooler that shares server connections
    # between clients per transaction (PgBouncer's pool_mode = transaction); without
    # it the webhook notices lost statements and stops preparing after three.
    "PREPARED_STATEMENTS": True,
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
    # Hosts a bot's base URL override may point at (the sandbox, a test proxy),
    # compared exactly with the host the HTTP client connects to. Empty by
    # default: a production site allows no override at all, since an override
    # receives the bot's bearer token and lets tenant users probe local ports.
    # Development settings set loopback explicitly, e.g.
    # ("127.0.0.1", "localhost", "::1"). Sinch's hosts come from REGION_BASE_URLS.
    "BASE_URL_OVERRIDE_HOSTS": (),
    # Dotted path to ``f(user) -> iterable of tenants (or their pks)`` the user
    # may act for in the API. None: the user is the tenant (TENANT_MODEL is the
    # user model); with another TENANT_MODEL this must be set.
    "TENANT_RESOLVER": None,
    # Region (ISO 3166-1 alpha-2, e.g. "SE") that national-format numbers such
    # as "0732001122" are read in, unless the bot sets its own. None: national
    # numbers are refused with a message saying how to write them.
    "DEFAULT_REGION": None,
    # WhatsApp groups were removed by Sinch on 2021-06-08: "group:" ids are
    # refused as message recipients unless this is True (old accounts only).
    "ALLOW_GROUP_RECIPIENTS": False,
    # Idempotency keys of sends are kept this many hours (at least 24): a
    # repeat within that time returns the first answer and sends nothing.
    "IDEMPOTENCY_KEY_HOURS": 48,
    # Seconds a repeat waits for the first request with the same key to finish
    # before it answers 409 "in progress".
    "IDEMPOTENCY_WAIT_SECONDS": 10.0,
    # DRF authentication classes of the API views (dotted paths). Token
    # authentication ("Authorization: Token <key>", no password hashing per
    # call) counts only when "rest_framework.authtoken" is in INSTALLED_APPS.
    "API_AUTHENTICATION_CLASSES": (
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ),
    # --- Transports and the Conversation API (issue 10) ---------------------------------------------
    # Extra transports by name, as dotted paths to Transport subclasses: {"cloud": "pkg.CloudTransport"}.
    "TRANSPORTS": {},
    # README.md of sinch-conversation-docs, "Regions": the app lives in one; the others answer 404.
    "CONVERSATION_REGION_BASE_URLS": dict(CONVERSATION_REGION_BASE_URLS),
    # OAuth2 client-credentials endpoint (a bot's base URL override replaces its origin).
    "CONVERSATION_AUTH_URL": "https://auth.sinch.com/oauth2/token",
    # Django cache alias that holds the OAuth tokens, shared by every process (use Redis or the
    # database cache in production: the local-memory cache is per process).
    "CONVERSATION_TOKEN_CACHE": "default",
    # A token is refreshed this many seconds before Sinch says it expires.
    "CONVERSATION_TOKEN_REFRESH_MARGIN": 300,
    # How long one process may hold the refresh lock, and how long others wait for its token.
    "CONVERSATION_TOKEN_LOCK_TIMEOUT": 10.0,
    # Retries of a 429 from the token endpoint (it has no Retry-After), with backoff and jitter.
    "CONVERSATION_TOKEN_RETRIES": 5,
    "CONVERSATION_TOKEN_BACKOFF_FACTOR": 0.2,
    # Callbacks signed more than this many seconds before or after now are refused.
    "CONVERSATION_SIGNATURE_TOLERANCE": 300,
    # --- Rate limits, messaging tiers, observability (issue 11) ---------------------------------------
    # Where the per-bot token buckets live: "memory" (this process only; inline dispatch) or "redis"
    # (shared by every worker: use it with Celery). RATE_LIMIT_REDIS_URL is the Redis they live in.
    "RATE_LIMIT_BACKEND": "memory",
    "RATE_LIMIT_REDIS_URL": "",
    # Messages per second per bot when the bot sets none, by transport name (WhatsApp: 80/s per number;
    # a Conversation API app drains about 20/s).
    "RATE_LIMIT_DEFAULTS": {"whatsapp": 80, "conversation": 20},
    # Seconds a worker (Celery task, reconciliation) may wait for a bot's tokens before it defers the batch.
    "RATE_LIMIT_MAX_WAIT": 60.0,
    # Seconds inline dispatch (after a web request's commit) may wait per request of a batch; beyond it
    # the rest of the batch is left to the outbox (reconciliation sends it), so a web request never sleeps
    # long. 0.5 s lets a send of a few batches through at 80/s; campaigns belong on Celery.
    "RATE_LIMIT_INLINE_MAX_WAIT": 0.5,
    # After a 429 from Sinch the bot's rate and burst are multiplied by this factor for this many seconds.
    "RATE_LIMIT_PENALTY_FACTOR": 0.5,
    "RATE_LIMIT_PENALTY_SECONDS": 60.0,
    # One structured log line per Sinch call (logger django_sinch_whatsapp.calls, INFO).
    "LOG_CALLS": True,
    # Replace phone numbers in those lines (and in the path) with a redacted form such as 4673****22.
    "LOG_REDACT_NUMBERS": True,
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

    def override_hosts(self) -> list[str]:
        """``BASE_URL_OVERRIDE_HOSTS`` as strings (empty: no base URL override is allowed)."""
        return [str(host) for host in self.BASE_URL_OVERRIDE_HOSTS or ()]

    def region_base_url(self, region: str) -> str:
        urls = self.REGION_BASE_URLS
        try:
            return str(urls[region]).rstrip("/")
        except KeyError:
            raise KeyError(f"no base URL for region {region!r}") from None


app_settings = SinchWhatsAppSettings()
