"""Include with ``path("sinch-whatsapp/", include("django_sinch_whatsapp.urls"))``."""

from __future__ import annotations

from django.urls import path

from .views import CallbackView

app_name = "sinch_whatsapp"

urlpatterns = [
    path("callbacks/<str:webhook_id>/", CallbackView.as_view(), name="callback"),
]
