"""Include with ``path("api/sinch-whatsapp/", include("django_sinch_whatsapp.api.urls"))``."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from .views import BotViewSet, OutboundMessageViewSet

app_name = "sinch_whatsapp_api"

router = DefaultRouter()
router.register("bots", BotViewSet, basename="bot")
router.register("messages", OutboundMessageViewSet, basename="message")

urlpatterns = router.urls
