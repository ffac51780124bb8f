"""The client's HTTP session reads the proxy and CA environment once per host, with requests' own result."""

from __future__ import annotations

import os

import pytest
import requests

from django_sinch_whatsapp.client.session import Session

URLS = [
    "https://us1.whatsapp.api.sinch.com/whatsapp/v1/bot/messages",
    "https://eu1.whatsapp.api.sinch.com/whatsapp/v1/bot/messages",
    "http://127.0.0.1:8765/whatsapp/v1/bot/messages",
]
ENVIRONMENTS = [
    {},
    {"HTTPS_PROXY": "http://proxy.example:3128", "HTTP_PROXY": "http://proxy.example:3128"},
    {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "eu1.whatsapp.api.sinch.com,127.0.0.1"},
    {"REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca.pem"},
    {"CURL_CA_BUNDLE": "/etc/ssl/certs/curl.pem", "ALL_PROXY": "socks5://proxy.example:1080"},
]
NAMES = ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"]


@pytest.fixture
def environment(monkeypatch):
    def use(values: dict[str, str]) -> None:
        for name in NAMES + [n.lower() for n in NAMES]:
            monkeypatch.delenv(name, raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return use


@pytest.mark.parametrize("values", ENVIRONMENTS)
def test_the_settings_are_what_requests_would_use(environment, values):
    environment(values)
    ours, theirs = Session(), requests.Session()
    for url in URLS:
        for verify in (None, True, False, "/mine.pem"):
            for proxies in ({}, {"https": "http://given:1"}, {"no_proxy": "us1.whatsapp.api.sinch.com"}):
                expected = theirs.merge_environment_settings(url, dict(proxies), None, verify, None)
                for _ in range(2):  # read from the environment, then from what was kept
                    assert ours.merge_environment_settings(url, dict(proxies), None, verify, None) == expected


def test_the_environment_is_read_once_per_host(environment, monkeypatch):
    environment({"HTTPS_PROXY": "http://proxy.example:3128"})
    session = Session()
    reads = []
    real = os.environ.get

    def counting(name, default=None):
        reads.append(name)
        return real(name, default)

    monkeypatch.setattr(os.environ, "get", counting)
    for _ in range(5):
        settings = session.merge_environment_settings(URLS[0], {}, None, None, None)
    assert settings["proxies"] == {"https": "http://proxy.example:3128"}
    assert reads.count("REQUESTS_CA_BUNDLE") == 1


def test_without_trust_env_nothing_is_read(environment):
    environment({"HTTPS_PROXY": "http://proxy.example:3128"})
    session = Session()
    session.trust_env = False
    assert session.merge_environment_settings(URLS[0], {}, None, None, None)["proxies"] == {}
