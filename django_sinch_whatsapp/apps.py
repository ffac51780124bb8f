from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SinchWhatsAppConfig(AppConfig):
    name = "django_sinch_whatsapp"
    label = "sinch_whatsapp"
    verbose_name = _("Sinch WhatsApp")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from . import checks  # noqa: F401  (registers the system checks)
        from .models import Bot
        from .queries import forget_bots

        post_save.connect(forget_bots, sender=Bot, dispatch_uid="sinch_whatsapp_forget_bots_saved")
        post_delete.connect(forget_bots, sender=Bot, dispatch_uid="sinch_whatsapp_forget_bots_deleted")
