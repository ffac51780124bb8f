"""Celery tasks (``DISPATCH_BACKEND = "celery"``). Import needs ``pip install django-sinch-whatsapp[celery]``.

Tasks carry only ids: the rows recorded before dispatch are the source of truth,
so a task run twice finds nothing left in state ``accepted`` and does nothing.
"""

from __future__ import annotations

from celery import shared_task

from .dispatch import deliver_batch


@shared_task(name="django_sinch_whatsapp.deliver_batch", ignore_result=True)
def deliver_batch_task(batch_id: str) -> int:
    """Send one recorded batch. Not retried by Celery: a send may have reached Sinch."""
    return deliver_batch(batch_id).sent
