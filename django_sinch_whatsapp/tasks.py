"""Celery tasks (``DISPATCH_BACKEND = "celery"``). Import needs ``pip install django-sinch-whatsapp[celery]``.

Tasks carry only ids: the rows recorded before dispatch are the source of truth,
so a task run twice finds nothing left in state ``accepted`` and does nothing.

Broker settings that keep the outbox moving when a worker dies (README, "Celery"):
``deliver_batch`` is acknowledged late and requeued when its worker process is
lost, and workers should run with ``worker_prefetch_multiplier = 1``
(``--prefetch-multiplier=1``) so that a SIGKILLed worker held at most the task
it was running, not a handful of prefetched ones that Redis only gives back
after its ``visibility_timeout`` (one hour by default).
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task, shared_task
from celery import _state as celery_state

from .dispatch import deliver_batch
from .ratelimit import waiting_allowed


def configured_celery_app() -> Celery | None:
    """The project's Celery app, or None when this process has loaded none.

    Celery's ``current_app`` is per thread: an app created at import (the
    project's ``celery.py``) is current only in the thread that imported it,
    and every other thread (gunicorn's gthreads, a thread pool) gets Celery's
    unconfigured fallback app, which publishes to ``amqp://localhost``. So look
    past the fallback: this thread's app, the process default, then any app
    the process created.
    """
    candidates = [celery_state._tls.current_app, celery_state.default_app, *list(celery_state._get_active_apps())]
    for app in candidates:
        if app is not None and not _is_fallback(app):
            return app
    return None


def _is_fallback(app: Celery) -> bool:
    """Celery's own stand-in (``celery._state._get_current_app``): main "default", no fix-ups."""
    return app.main == "default" and not app.fixups


class ProjectAppTask(Task):
    """Publishes through the project's app even from a thread where Celery's fallback is current."""

    def apply_async(self, *args: Any, **kwargs: Any) -> Any:
        app = configured_celery_app()
        if app is not None and app is not self.app:
            return app.tasks[self.name].apply_async(*args, **kwargs)
        return super().apply_async(*args, **kwargs)


# acks_late + reject_on_worker_lost are safe for this task because deliver_batch
# claims its rows (sets dispatched_at under SELECT ... FOR UPDATE, committed)
# before the HTTP call and only ever sends rows that are accepted and unclaimed:
# a redelivered task (after a crash, a requeue or the visibility timeout) finds
# the batch claimed and sends nothing, so a batch still reaches Sinch at most once.
@shared_task(
    name="django_sinch_whatsapp.deliver_batch",
    base=ProjectAppTask,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def deliver_batch_task(batch_id: str) -> int:
    """Send one recorded batch. Not retried by Celery: a send may have reached Sinch.

    A worker may wait here for the bot's rate limit (``RATE_LIMIT_MAX_WAIT``).
    """
    with waiting_allowed():
        return deliver_batch(batch_id).sent


@shared_task(name="django_sinch_whatsapp.dispatch_due", base=ProjectAppTask, ignore_result=True)
def dispatch_due_task(limit: int = 500) -> int:
    """Publish the deferred batches whose time has come (celery beat, e.g. every minute).

    Not a countdown per batch: a messaging-tier deferral is 24 hours, and Redis hands
    an unacknowledged task (which an ETA task is, held by a worker until its time)
    to another worker after ``visibility_timeout``, again and again.
    """
    from .dispatch import dispatch_due

    with waiting_allowed():  # publishes with the celery backend; an inline backend sends here, paced
        return len(dispatch_due(limit=limit))


@shared_task(name="django_sinch_whatsapp.reconcile", base=ProjectAppTask, ignore_result=True)
def reconcile_task(older_than_seconds: float = 900, limit: int = 500) -> int:
    """Periodic settlement (e.g. every 10 minutes with celery beat)."""
    from datetime import timedelta

    from .services.reconciliation import reconcile

    with waiting_allowed():
        return reconcile(older_than=timedelta(seconds=older_than_seconds), limit=limit).changed


@shared_task(name="django_sinch_whatsapp.inbound_followups", base=ProjectAppTask, ignore_result=True)
def inbound_followups_task(inbound_message_pk: int, mark_read: bool, download_media: bool) -> None:
    from .callbacks.followups import run_followups

    run_followups(inbound_message_pk, mark_read=mark_read, download_media=download_media)
