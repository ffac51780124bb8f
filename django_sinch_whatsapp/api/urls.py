"""Include with ``path("api/sinch-whatsapp/", include("django_sinch_whatsapp.api.urls"))``.

The root (``api/sinch-whatsapp/``) lists the endpoints; ``schema/`` is the OpenAPI document, ``docs/``
Swagger UI and ``redoc/`` ReDoc, both from local static files (``drf_spectacular_sidecar`` in
``INSTALLED_APPS``).
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import APIRootView, DefaultRouter

from .campaigns import CampaignViewSet
from .contacts import ContactViewSet, InboundMessageViewSet
from .docs import APISchemaView, RedocView, SwaggerUIView
from .errors import OneErrorShapeMixin
from .provisioning import MediaProviderViewSet, StickerpackViewSet
from .views import BotViewSet, OutboundMessageViewSet, api_authenticators

app_name = "sinch_whatsapp_api"

#: Beside the collections, the root links these (name in the root -> URL name).
DOCUMENT_LINKS = {"schema": "schema", "docs": "swagger-ui", "redoc": "redoc"}


class SinchAPIRootView(OneErrorShapeMixin, APIRootView):
    """The endpoints of the Sinch WhatsApp API, its OpenAPI schema and its docs."""

    def get_authenticators(self) -> list[Any]:
        return api_authenticators()

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        for key, url_name in DOCUMENT_LINKS.items():
            response.data[key] = reverse(f"{app_name}:{url_name}", request=request, format=kwargs.get("format"))
        return response


class SinchRouter(DefaultRouter):
    APIRootView = SinchAPIRootView


router = SinchRouter()
router.register("bots", BotViewSet, basename="bot")
router.register("messages", OutboundMessageViewSet, basename="message")
router.register("contacts", ContactViewSet, basename="contact")
router.register("inbound", InboundMessageViewSet, basename="inbound")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("media-providers", MediaProviderViewSet, basename="media-provider")
router.register("stickerpacks", StickerpackViewSet, basename="stickerpack")

urlpatterns = [
    path("schema/", APISchemaView.as_view(), name="schema"),
    path("docs/", SwaggerUIView.as_view(), name="swagger-ui"),
    path("redoc/", RedocView.as_view(), name="redoc"),
    *router.urls,
]
