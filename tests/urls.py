from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("sinch-whatsapp/", include("django_sinch_whatsapp.urls")),
    path("api/sinch-whatsapp/", include("django_sinch_whatsapp.api.urls")),
]
