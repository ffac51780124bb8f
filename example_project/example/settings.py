"""Example project settings, read from the environment (django-environ).

Defaults run the demo on SQLite against the embedded Sinch sandbox; see
``.env.example`` for every variable.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)
# Demo default only: set SECRET_KEY in any real deployment.
SECRET_KEY = env("SECRET_KEY", default="example-project-demo-secret-key-not-for-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_sinch_whatsapp",
    "organizations",
    "example",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "example.urls"
WSGI_APPLICATION = "example.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections: every webhook callback would otherwise open (and authenticate) a new
# PostgreSQL connection. Health checks drop a connection the server closed before reusing it.
# CONN_MAX_AGE=0 restores one connection per request (bench/run.py measures both).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Callbacks arrive on other threads while a send is in flight: take the write
    # lock at BEGIN and wait for it, instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"

REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SPECTACULAR_SETTINGS = {"TITLE": "django-sinch-whatsapp example API", "VERSION": "0.1"}

# Demo key only (the same as .env.example): set your own in any real deployment.
DEMO_ENCRYPTION_KEY = "TnJ9gKq1R1yVx8v7Hk2b0mQe3sL5pW6aZ4cD8fG0hJk="

SINCH_WHATSAPP = {
    "ENCRYPTION_KEYS": env.list("SINCH_WHATSAPP_ENCRYPTION_KEYS", default=[DEMO_ENCRYPTION_KEY]),
    "TENANT_MODEL": "organizations.Organization",
    "TENANT_RESOLVER": "organizations.tenancy.organizations_for_user",
    # Empty: ``manage.py demo`` derives it from --addrport. Set it when Sinch reaches you elsewhere.
    "PUBLIC_BASE_URL": env("SINCH_WHATSAPP_PUBLIC_BASE_URL", default=""),
    "DISPATCH_BACKEND": env("SINCH_WHATSAPP_DISPATCH_BACKEND", default="inline"),
    # The demo's bots talk to the sandbox on loopback. A production site leaves this
    # empty (the default): a base URL override receives the bot's bearer token.
    "BASE_URL_OVERRIDE_HOSTS": env.list(
        "SINCH_WHATSAPP_BASE_URL_OVERRIDE_HOSTS", default=["127.0.0.1", "localhost", "::1"]
    ),
}
SINCH_SANDBOX_PORT = env.int("SINCH_SANDBOX_PORT", default=8765)

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
# A SIGKILLed worker holds at most the task it was running (the dispatch task is acks_late);
# Redis gives an unacknowledged task back after visibility_timeout (seconds): keep it above
# the longest task and any countdown/ETA you use, and low enough to resend promptly.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=300)}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_sinch_whatsapp": {"handlers": ["console"], "level": env("SINCH_LOG_LEVEL", default="INFO")}},
}
