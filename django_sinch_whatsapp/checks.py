"""System checks for misconfiguration. Ids are stable; each is tested."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from .conf import DEFAULTS, app_settings

DISPATCH_BACKENDS = ("inline", "celery")


def _is_absolute_url(value: Any) -> bool:
    parts = urlsplit(str(value))
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@register(Tags.security, "sinch_whatsapp")
def check_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    from cryptography.fernet import Fernet

    keys = app_settings.ENCRYPTION_KEYS
    if isinstance(keys, (str, bytes)):
        keys = [keys]
    if not keys:
        return [
            Error(
                'SINCH_WHATSAPP["ENCRYPTION_KEYS"] is empty: bot tokens and signing keys cannot be stored.',
                hint="Add a key from: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'",
                id="sinch_whatsapp.E001",
            )
        ]
    errors = []
    for index, key in enumerate(keys):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                Error(
                    f'SINCH_WHATSAPP["ENCRYPTION_KEYS"][{index}] is not a Fernet key.',
                    hint="A Fernet key is 32 url-safe base64-encoded bytes (Fernet.generate_key()).",
                    id="sinch_whatsapp.E002",
                )
            )
    return errors


@register("sinch_whatsapp")
def check_regions(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    urls = app_settings.REGION_BASE_URLS
    errors = []
    if not isinstance(urls, dict):
        return [Error('SINCH_WHATSAPP["REGION_BASE_URLS"] must be a dict.', id="sinch_whatsapp.E003")]
    for region in DEFAULTS["REGION_BASE_URLS"]:
        if region not in urls or not _is_absolute_url(urls[region]):
            errors.append(
                Error(
                    f'SINCH_WHATSAPP["REGION_BASE_URLS"] has no absolute URL for region {region!r}.',
                    hint="Keep the keys 'us' and 'eu'; the Sinch hosts are the defaults.",
                    id="sinch_whatsapp.E003",
                )
            )
    for region in urls:
        if region not in DEFAULTS["REGION_BASE_URLS"]:
            errors.append(
                Error(
                    f'SINCH_WHATSAPP["REGION_BASE_URLS"] names unknown region {region!r}.',
                    hint="Sinch has the regions 'us' and 'eu' (whatsapp-introduction.md).",
                    id="sinch_whatsapp.E004",
                )
            )
    return errors


@register("sinch_whatsapp")
def check_tenant_model(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    label = app_settings.TENANT_MODEL
    try:
        apps.get_model(label, require_ready=False)
    except (ValueError, LookupError):
        return [
            Error(
                f'SINCH_WHATSAPP["TENANT_MODEL"] = {label!r} does not name an installed model.',
                hint="Use 'app_label.ModelName', e.g. 'accounts.Organization'; the default is AUTH_USER_MODEL.",
                id="sinch_whatsapp.E005",
            )
        ]
    return []


@register("sinch_whatsapp")
def check_dispatch_backend(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    backend = app_settings.DISPATCH_BACKEND
    if backend not in DISPATCH_BACKENDS:
        return [
            Error(
                f'SINCH_WHATSAPP["DISPATCH_BACKEND"] = {backend!r} is not one of {DISPATCH_BACKENDS}.',
                id="sinch_whatsapp.E006",
            )
        ]
    if backend == "celery":
        try:
            import celery  # noqa: F401
        except ImportError:
            return [
                Error(
                    'SINCH_WHATSAPP["DISPATCH_BACKEND"] is "celery" but Celery is not installed.',
                    hint="pip install 'django-sinch-whatsapp[celery]'",
                    id="sinch_whatsapp.E007",
                )
            ]
        return _check_celery_app()
    return []


def _check_celery_app() -> list[Any]:
    """Without the project's app, Celery publishes to its default broker (amqp://localhost), silently."""
    from .tasks import configured_celery_app

    app = configured_celery_app()
    if app is None:
        return [
            Error(
                'SINCH_WHATSAPP["DISPATCH_BACKEND"] is "celery" but this process has loaded no Celery app: '
                "messages would be published to Celery's default broker (amqp://localhost) and never sent.",
                hint="Import your Celery app when Django starts, e.g. `from .celery import app as celery_app` "
                "in your project package's __init__.py (Celery's 'First steps with Django').",
                id="sinch_whatsapp.E020",
            )
        ]
    if not app.conf.broker_url:
        return [
            Error(
                f"The Celery app {app.main!r} has no broker URL: messages would be published to "
                "Celery's default broker (amqp://localhost).",
                hint="Set CELERY_BROKER_URL (with namespace='CELERY') or broker_url on the app.",
                id="sinch_whatsapp.E021",
            )
        ]
    return []


@register(Tags.security, "sinch_whatsapp")
def check_callback_security(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    messages: list[CheckMessage] = []
    if not app_settings.REQUIRE_SIGNED_CALLBACKS:
        messages.append(
            Warning(
                'SINCH_WHATSAPP["REQUIRE_SIGNED_CALLBACKS"] is off: anyone who learns a webhook URL '
                "of a bot without a signing key can forge delivery reports and inbound messages.",
                hint="Ask Sinch to sign callbacks and set each bot's callback signing key.",
                id="sinch_whatsapp.W001",
            )
        )
    base = app_settings.PUBLIC_BASE_URL
    if base and not _is_absolute_url(base):
        messages.append(
            Error(
                f'SINCH_WHATSAPP["PUBLIC_BASE_URL"] = {base!r} is not an absolute http(s) URL.',
                id="sinch_whatsapp.E008",
            )
        )
    elif (
        base
        and urlsplit(str(base)).scheme == "http"
        and urlsplit(str(base)).hostname
        not in (
            "127.0.0.1",
            "localhost",
            "::1",
        )
    ):
        messages.append(
            Warning(
                'SINCH_WHATSAPP["PUBLIC_BASE_URL"] uses plain http on a public host: callbacks travel unencrypted.',
                hint="Use https.",
                id="sinch_whatsapp.W002",
            )
        )
    cache_seconds = app_settings.WEBHOOK_BOT_CACHE_SECONDS
    if isinstance(cache_seconds, bool) or not isinstance(cache_seconds, (int, float)) or cache_seconds < 0:
        messages.append(
            Error(
                f'SINCH_WHATSAPP["WEBHOOK_BOT_CACHE_SECONDS"] = {cache_seconds!r} is not a number of seconds >= 0.',
                hint="0 reads the bot for every callback; the default keeps it 5 seconds.",
                id="sinch_whatsapp.E010",
            )
        )
    if not isinstance(app_settings.PREPARED_STATEMENTS, bool):
        messages.append(
            Error(
                f'SINCH_WHATSAPP["PREPARED_STATEMENTS"] = {app_settings.PREPARED_STATEMENTS!r} is not True or False.',
                hint="False behind a pooler in transaction mode; the default True elsewhere.",
                id="sinch_whatsapp.E011",
            )
        )
    unknown = app_settings.unknown_keys()
    if unknown:
        messages.append(
            Warning(
                f"SINCH_WHATSAPP has unknown keys: {', '.join(unknown)}.",
                hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
                id="sinch_whatsapp.W003",
            )
        )
    return messages


@register(Tags.database, "sinch_whatsapp")
def check_bots(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Any]:
    """Needs the database: run with ``manage.py check --database default``."""
    if not databases:
        return []
    from django.db import DatabaseError

    from .models import Bot

    messages: list[CheckMessage] = []
    try:
        bots = list(Bot.objects.filter(is_active=True).only("pk", "name", "region", "callback_key"))
    except DatabaseError:
        return []
    urls = app_settings.REGION_BASE_URLS if isinstance(app_settings.REGION_BASE_URLS, dict) else {}
    for bot in bots:
        if bot.region not in urls:
            messages.append(
                Error(
                    f"Bot {bot.pk} ({bot.name}) has unknown region {bot.region!r}.", obj=bot, id="sinch_whatsapp.E009"
                )
            )
        if app_settings.REQUIRE_SIGNED_CALLBACKS and not bot.callback_key:
            messages.append(
                Warning(
                    f"Bot {bot.pk} ({bot.name}) has no callback signing key while REQUIRE_SIGNED_CALLBACKS is on: "
                    "its callbacks will be refused with 403.",
                    hint="Set the key Sinch signs this bot's callbacks with.",
                    obj=bot,
                    id="sinch_whatsapp.W004",
                )
            )
    return messages


#: The application namespace of ``django_sinch_whatsapp.api.urls``.
API_APP_NAME = "sinch_whatsapp_api"
API_URLCONF = "django_sinch_whatsapp.api.urls"
TOKEN_AUTHENTICATION = "rest_framework.authentication.TokenAuthentication"


def api_urls_in_use() -> bool:
    """Whether the project's URLconf includes ``django_sinch_whatsapp.api.urls`` (any prefix, any nesting).

    False when the URLconf cannot be loaded: Django's own URL checks report that.
    """
    from django.urls import URLResolver, get_resolver

    def includes_api(patterns: Any) -> bool:
        for pattern in patterns:
            if not isinstance(pattern, URLResolver):
                continue
            module = pattern.urlconf_name
            name = module if isinstance(module, str) else getattr(module, "__name__", "")
            if pattern.app_name == API_APP_NAME or name == API_URLCONF or includes_api(pattern.url_patterns):
                return True
        return False

    try:
        return includes_api(get_resolver().url_patterns)
    except Exception:  # any error loading the project's URLconf is for Django's own URL checks to report
        return False


@register("sinch_whatsapp")
def check_api_apps(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """The apps the API's pages rely on, checked only when the project mounts the API's URLs."""
    if not api_urls_in_use():
        return []
    messages: list[CheckMessage] = []
    if not apps.is_installed("django_filters"):
        messages.append(
            Error(
                "The Sinch WhatsApp API is mounted but 'django_filters' is not in INSTALLED_APPS: every list "
                "page of the browsable API fails (TemplateDoesNotExist for the filter form).",
                hint="Add 'django_filters' to INSTALLED_APPS (django-filter is installed with django-sinch-whatsapp).",
                id="sinch_whatsapp.E030",
            )
        )
    if not apps.is_installed("drf_spectacular_sidecar"):
        messages.append(
            Warning(
                "The Sinch WhatsApp API is mounted but 'drf_spectacular_sidecar' is not in INSTALLED_APPS: "
                "its docs/ (Swagger UI) and redoc/ pages load scripts and styles that are not there.",
                hint="Add 'drf_spectacular_sidecar' to INSTALLED_APPS, then run collectstatic.",
                id="sinch_whatsapp.W031",
            )
        )
    if TOKEN_AUTHENTICATION in app_settings.API_AUTHENTICATION_CLASSES and not apps.is_installed(
        "rest_framework.authtoken"
    ):
        messages.append(
            Warning(
                'SINCH_WHATSAPP["API_AUTHENTICATION_CLASSES"] names TokenAuthentication but '
                "'rest_framework.authtoken' is not in INSTALLED_APPS: the API accepts no tokens "
                "(clients pay for password hashing on every Basic-auth call).",
                hint="Add 'rest_framework.authtoken' to INSTALLED_APPS and migrate, or remove "
                "TokenAuthentication from API_AUTHENTICATION_CLASSES.",
                id="sinch_whatsapp.W032",
            )
        )
    return messages
