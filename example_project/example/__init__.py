"""Loads the Celery app when Celery is installed, so web processes publish to the configured broker."""

try:
    from .celery import app as celery_app
except ImportError:  # Celery is optional (the "celery" extra)
    celery_app = None

__all__ = ["celery_app"]
