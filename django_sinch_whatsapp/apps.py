from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SinchWhatsAppConfig(AppConfig):
    name = "django_sinch_whatsapp"
    label = "sinch_whatsapp"
    verbose_name = _("Sinch WhatsApp")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
