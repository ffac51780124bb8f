"""Settings for the test suite. ``DATABASE_URL`` picks the database (SQLite by default)."""

import os
import tempfile

import django
import environ

BASE_DIR = os.path.dirname(os.path.abspath(__file__))

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"

DATABASES = {
    "default": environ.Env.db_url_config(
        os.environ.get(
            "DATABASE_URL", "sqlite:///" + os.path.join(tempfile.gettempdir(), "sinch-whatsapp-tests.sqlite3")
        )
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Callbacks arrive on other threads while a send is in flight: take the write
    # lock at BEGIN and wait for it, instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so the live server's threads and a Celery worker
    # process each open their own connection to the same test database.
    # One file per test run (pid), so parallel runs never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SINCH_TEST_SQLITE")
        or os.path.join(tempfile.gettempdir(), f"sinch-whatsapp-test-{os.getpid()}.sqlite3")
    }

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
    "tests.tenants",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.urls"
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

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

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

SINCH_WHATSAPP = {
    "ENCRYPTION_KEYS": ["x2Qv3mJ0vGmQ0aYtS0p8c9b3Nw1kq0z6m9Hn2c5Ld4E="],
    "TENANT_MODEL": "tenants.Organization",
    "TENANT_RESOLVER": "tests.tenants.resolvers.organizations_for_user",
    "CONNECT_TIMEOUT": 2.0,
    "READ_TIMEOUT": 5.0,
    "RETRY_BACKOFF_FACTOR": 0.01,
    # Bots in the tests point at the sandbox on loopback; the default allows no override.
    "BASE_URL_OVERRIDE_HOSTS": ("127.0.0.1", "localhost", "::1"),
    # The sandbox takes any rate: the suite's bots are not paced unless a test sets a bot's own limit.
    "RATE_LIMIT_DEFAULTS": {"whatsapp": 100_000, "conversation": 100_000},
    # Used when a test switches RATE_LIMIT_BACKEND to "redis" (workers and tests share it).
    # The Celery rate-limit test starts its workers with the Redis backend through this variable.
    "RATE_LIMIT_BACKEND": os.environ.get("SINCH_TEST_RATE_LIMIT_BACKEND", "memory"),
    "RATE_LIMIT_REDIS_URL": os.environ.get("RATE_LIMIT_REDIS_URL", "redis://127.0.0.1:6379/14"),
    # A Celery test's worker may publish from inside its tasks too (dispatch_due publishes deliver_batch).
    "DISPATCH_BACKEND": os.environ.get("SINCH_TEST_DISPATCH_BACKEND", "inline"),
}

CELERY_BROKER_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
CELERY_TASK_IGNORE_RESULT = True
# One queue per test run, so parallel runs and stale messages never meet.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("SINCH_TEST_CELERY_QUEUE", f"sinch-whatsapp-tests-{os.getpid()}")
# As the README recommends: a SIGKILLed worker holds at most the task it was running.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
if os.environ.get("SINCH_TEST_VISIBILITY_TIMEOUT"):
    # The crashed-worker test: Redis gives unacknowledged tasks back within seconds, not an hour.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": float(os.environ["SINCH_TEST_VISIBILITY_TIMEOUT"]),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"django_sinch_whatsapp": {"handlers": ["null"], "level": "DEBUG"}},
}

# Django 6.1 warns that Django 2028 has no default mailer; its test runner points every alias named
# here at the locmem backend (before 6.1 the runner sets EMAIL_BACKEND instead).
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
