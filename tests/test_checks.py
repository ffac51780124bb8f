"""Every system check id fires on its misconfiguration, and only then."""

from __future__ import annotations

import pytest
from django.core import checks

from django_sinch_whatsapp import checks as our_checks

GOOD_KEY = "x2Qv3mJ0vGmQ0aYtS0p8c9b3Nw1kq0z6m9Hn2c5Ld4E="


def ids(messages):
    return sorted(m.id for m in messages)


@pytest.fixture
def sinch(settings):
    def apply(**changes):
        settings.SINCH_WHATSAPP = {**settings.SINCH_WHATSAPP, **changes}

    return apply


def run_all(databases=None):
    return [m for m in checks.run_checks(tags=None, databases=databases) if m.id.startswith("sinch_whatsapp.")]


def test_test_settings_are_clean():
    assert run_all() == []


@pytest.mark.parametrize(
    "changes,expected",
    [
        ({"ENCRYPTION_KEYS": []}, ["sinch_whatsapp.E001"]),
        ({"ENCRYPTION_KEYS": ["not-a-key"]}, ["sinch_whatsapp.E002"]),
        ({"REGION_BASE_URLS": {"us": "https://us1.whatsapp.api.sinch.com"}}, ["sinch_whatsapp.E003"]),
        (
            {"REGION_BASE_URLS": {"us": "not a url", "eu": "https://eu1.whatsapp.api.sinch.com"}},
            ["sinch_whatsapp.E003"],
        ),
        (
            {"REGION_BASE_URLS": {"us": "https://a.test", "eu": "https://b.test", "ap": "https://c.test"}},
            ["sinch_whatsapp.E004"],
        ),
        ({"TENANT_MODEL": "nowhere.Tenant"}, ["sinch_whatsapp.E005"]),
        ({"DISPATCH_BACKEND": "carrier-pigeon"}, ["sinch_whatsapp.E006"]),
        ({"PUBLIC_BASE_URL": "example.com"}, ["sinch_whatsapp.E008"]),
        ({"WEBHOOK_BOT_CACHE_SECONDS": -1}, ["sinch_whatsapp.E010"]),
        ({"WEBHOOK_BOT_CACHE_SECONDS": "5"}, ["sinch_whatsapp.E010"]),
        ({"WEBHOOK_BOT_CACHE_SECONDS": 0}, []),
        ({"PREPARED_STATEMENTS": "yes"}, ["sinch_whatsapp.E011"]),
        ({"PREPARED_STATEMENTS": False}, []),
        ({"REQUIRE_SIGNED_CALLBACKS": False}, ["sinch_whatsapp.W001"]),
        ({"PUBLIC_BASE_URL": "http://api.example.com"}, ["sinch_whatsapp.W002"]),
        ({"PUBLIC_BASE_URL": "http://127.0.0.1:8000"}, []),
        ({"TYPO_KEY": 1}, ["sinch_whatsapp.W003"]),
    ],
)
def test_check_ids(sinch, changes, expected):
    sinch(**changes)
    assert ids(run_all()) == expected


def test_celery_backend_without_celery_is_e007(sinch, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_celery(name, *args, **kwargs):
        if name == "celery":
            raise ImportError("no celery")
        return real_import(name, *args, **kwargs)

    sinch(DISPATCH_BACKEND="celery")
    monkeypatch.setattr(builtins, "__import__", no_celery)
    assert ids(our_checks.check_dispatch_backend()) == ["sinch_whatsapp.E007"]


def test_celery_backend_with_celery_and_the_projects_app_is_clean(sinch):
    import tests.celery_app  # noqa: F401  (a project loads its app at startup; without it: E020, test_celery_checks)

    sinch(DISPATCH_BACKEND="celery")
    assert our_checks.check_dispatch_backend() == []


@pytest.mark.django_db
def test_database_checks_on_bots(sinch, make_bot):
    make_bot(sinch_bot_id="unsigned", callback_key="")
    odd = make_bot(sinch_bot_id="odd-region")
    type(odd).objects.filter(pk=odd.pk).update(region="ap")
    assert ids(run_all(databases=["default"])) == ["sinch_whatsapp.E009", "sinch_whatsapp.W004"]
    assert run_all() == []  # database checks only run when asked for


def test_debug_changes_no_verdict(settings):
    settings.DEBUG = True
    assert run_all() == []


# -- the apps the API relies on, when the project mounts it ----------------------------------------

TOKEN = "rest_framework.authentication.TokenAuthentication"


@pytest.mark.parametrize(
    "missing,expected",
    [
        (["django_filters"], ["sinch_whatsapp.E030"]),
        (["drf_spectacular_sidecar"], ["sinch_whatsapp.W031"]),
        (["rest_framework.authtoken"], ["sinch_whatsapp.W032"]),
        (
            ["django_filters", "drf_spectacular_sidecar", "rest_framework.authtoken"],
            ["sinch_whatsapp.E030", "sinch_whatsapp.W031", "sinch_whatsapp.W032"],
        ),
    ],
)
def test_apps_the_mounted_api_relies_on(missing, expected):
    from django.test import modify_settings

    with modify_settings(INSTALLED_APPS={"remove": missing}):
        found = run_all()
    assert ids(found) == expected
    for message in found:  # the hint names the app to add
        assert any(f"'{app}'" in message.hint for app in missing), message


def test_token_authentication_not_configured_needs_no_authtoken_app(sinch):
    from django.test import modify_settings

    sinch(API_AUTHENTICATION_CLASSES=("rest_framework.authentication.SessionAuthentication",))
    with modify_settings(INSTALLED_APPS={"remove": ["rest_framework.authtoken"]}):
        assert run_all() == []


def test_api_apps_are_not_asked_for_when_the_api_is_not_mounted(settings):
    from django.test import modify_settings

    settings.ROOT_URLCONF = "tests.urls_without_api"
    with modify_settings(INSTALLED_APPS={"remove": ["django_filters", "drf_spectacular_sidecar"]}):
        assert run_all() == []
    assert our_checks.api_urls_in_use() is False


def test_the_api_is_found_under_any_prefix_and_namespace(settings):
    import sys
    import types

    from django.urls import include, path

    module = types.ModuleType("tests._nested_api_urls")
    module.urlpatterns = [path("v1/", include(([path("sinch/", include("django_sinch_whatsapp.api.urls"))], "v1")))]
    sys.modules[module.__name__] = module
    try:
        settings.ROOT_URLCONF = module.__name__
        assert our_checks.api_urls_in_use() is True
        settings.ROOT_URLCONF = "tests.nowhere_urls"  # a URLconf that does not import: Django's check says so
        assert our_checks.api_urls_in_use() is False
    finally:
        del sys.modules[module.__name__]
