"""Celery tasks (``DISPATCH_BACKEND = "celery"``). Import needs ``pip install django-sinch-whatsapp[celery]``.

Tasks carry only ids: the rows recorded before dispatch are the source of truth,
so a task run twice finds nothing left in state ``accepted`` and does nothing.
"""

from __future__ import annotations

from celery import shared_task

from .dispatch import deliver_batch
from .ratelimit import waiting_allowed


@shared_task(name="django_sinch_whatsapp.deliver_batch", ignore_result=True)
def deliver_batch_task(batch_id: str) -> int:
    """Send one recorded batch. Not retried by Celery: a send may have reached Sinch.

    A worker may wait here for the bot's rate limit (``RATE_LIMIT_MAX_WAIT``).
    """
    with waiting_allowed():
        return deliver_batch(batch_id).sent


@shared_task(name="django_sinch_whatsapp.reconcile", ignore_result=True)
def reconcile_task(older_than_seconds: float = 900, limit: int = 500) -> int:
    """Periodic settlement (e.g. every 10 minutes with celery beat)."""
    from datetime import timedelta

    from .services.reconciliation import reconcile

    with waiting_allowed():
        return reconcile(older_than=timedelta(seconds=older_than_seconds), limit=limit).changed


@shared_task(name="django_sinch_whatsapp.inbound_followups", ignore_result=True)
def inbound_followups_task(inbound_message_pk: int, mark_read: bool, download_media: bool) -> None:
    from .callbacks.followups import run_followups

    run_followups(inbound_message_pk, mark_read=mark_read, download_media=download_media)
