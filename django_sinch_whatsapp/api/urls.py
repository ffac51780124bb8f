"""Include with ``path("api/sinch-whatsapp/", include("django_sinch_whatsapp.api.urls"))``."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from .campaigns import CampaignViewSet
from .contacts import ContactViewSet, InboundMessageViewSet
from .views import BotViewSet, OutboundMessageViewSet

app_name = "sinch_whatsapp_api"

router = DefaultRouter()
router.register("bots", BotViewSet, basename="bot")
router.register("messages", OutboundMessageViewSet, basename="message")
router.register("contacts", ContactViewSet, basename="contact")
router.register("inbound", InboundMessageViewSet, basename="inbound")
router.register("campaigns", CampaignViewSet, basename="campaign")

urlpatterns = router.urls
