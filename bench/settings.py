"""Settings for the benchmarks: the test settings on PostgreSQL, plus the floors' URLs.

``DATABASE_URL`` names the bench database; ``CONN_MAX_AGE`` (seconds, default 600)
and ``CONN_HEALTH_CHECKS`` are read from the environment so the webhook can be
measured with one connection per request (``0``) and with persistent ones.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

ROOT_URLCONF = "bench.urls"
DEBUG = False
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "600"))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = os.environ.get("CONN_HEALTH_CHECKS", "1") == "1"
DATABASES["default"].pop("TEST", None)
# The floors verify with this key; the bench bot is created with it too.
BENCH_CALLBACK_KEY = "bench-callback-signing-key-0123456789"
LOGGING = {"version": 1, "disable_existing_loggers": False}
