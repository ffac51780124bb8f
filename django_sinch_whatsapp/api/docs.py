"""The API's own OpenAPI schema, Swagger UI and ReDoc, served from local static files (works offline).

The JavaScript and CSS come from ``drf-spectacular-sidecar`` (add ``drf_spectacular_sidecar`` to
``INSTALLED_APPS``), whatever ``SPECTACULAR_SETTINGS`` says about CDNs; the ReDoc page drops
drf-spectacular's Google Fonts links. The schema is
the project's (the one ``manage.py spectacular`` prints), so it names the API's paths as mounted.
"""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.request import Request
from rest_framework.response import Response

from .errors import OneErrorShapeMixin

SCHEMA_URL_NAME = "sinch_whatsapp_api:schema"


def _sidecar(path: str) -> str:
    return static(f"drf_spectacular_sidecar/{path}")


class APISchemaView(OneErrorShapeMixin, SpectacularAPIView):
    """The OpenAPI document (YAML; ``?format=json`` for JSON)."""

    @extend_schema(exclude=True)  # the document does not describe itself
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class SwaggerUIView(OneErrorShapeMixin, SpectacularSwaggerView):
    url_name = SCHEMA_URL_NAME

    @staticmethod
    def _swagger_ui_resource(filename: str) -> Any:
        return _sidecar(f"swagger-ui-dist/{filename}")

    @staticmethod
    def _swagger_ui_favicon() -> Any:
        return _sidecar("swagger-ui-dist/favicon-32x32.png")


class RedocView(OneErrorShapeMixin, SpectacularRedocView):
    url_name = SCHEMA_URL_NAME
    template_name = "django_sinch_whatsapp/api/redoc.html"

    @staticmethod
    def _redoc_standalone() -> Any:
        return _sidecar("redoc/bundles/redoc.standalone.js")
