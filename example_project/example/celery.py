"""The example project's Celery app (``SINCH_WHATSAPP_DISPATCH_BACKEND=celery``).

Run a worker with prefetch 1 (see the README, "Celery"):
``celery -A example worker --prefetch-multiplier=1`` from ``example_project/``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.settings")

app = Celery("example")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
