"""The package's URLs (webhook, admin, API) as a project includes them, and the floors."""

from django.urls import path

from bench import floors
from tests.urls import urlpatterns as package_urlpatterns

urlpatterns = [
    *package_urlpatterns,
    path("floor/hmac-insert/", floors.hmac_insert),
    path("floor/json/", floors.bare_json),
    path("floor/required-writes/", floors.required_writes),
]
