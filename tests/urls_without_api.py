"""A project that mounts the webhooks and the admin but not the API (tests/test_checks.py)."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("sinch-whatsapp/", include("django_sinch_whatsapp.urls")),
]
