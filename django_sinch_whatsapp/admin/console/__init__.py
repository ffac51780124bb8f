"""The console pages beyond Django's change forms: send, reply, retry, the inbox and the dashboard.

Each model admin adds its pages with one hook::

    def get_urls(self):
        return console_urls(self) + super().get_urls()

The pages are named ``admin:sinch_whatsapp_<model>_<page>`` and take the
object id as ``object_id``, as the change page does, so the tenant probe
(tests/tenant_probe.py) reaches them through ``get_urls()`` like every other page.
"""

from __future__ import annotations

from .urls import console_urls

__all__ = ["console_urls"]
