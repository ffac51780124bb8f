"""The HTTP session a client uses: pooled, authenticated, with timeouts.

Retries are decided per call in :mod:`.client` (not by urllib3), because
whether a call may be repeated depends on the endpoint: a ``POST /messages``
that may have reached Sinch must never be sent twice.
"""

from __future__ import annotations

import os
import platform
import re
from typing import Any
from urllib.parse import urlsplit

import requests
from django.views.decorators.debug import sensitive_variables
from requests.adapters import HTTPAdapter
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies

from .. import __version__

USER_AGENT = (
    f"django-sinch-whatsapp/{__version__} python-requests/{requests.__version__} Python/{platform.python_version()}"
)


#: What a secret sent in an HTTP header may hold: visible ASCII (RFC 9110 field values; RFC 6750 bearer
#: tokens are narrower still). Anything else cannot be encoded into a header: http.client raises
#: UnicodeEncodeError, which must never surface as a 500.
HEADER_SAFE = re.compile(r"[\x21-\x7e]*")
HEADER_SAFE_RULE = "only printable ASCII characters without spaces can be sent in an HTTP header"


def header_safe(value: str) -> bool:
    """Whether ``value`` can be sent as an HTTP header value (or the credentials part of one)."""
    return HEADER_SAFE.fullmatch(value) is not None


class RedactedHeaderValue(str):
    """A header value that is sent as is but never shown: its ``repr`` is a placeholder.

    The ``Authorization`` header sits in the header dicts that requests and
    urllib3 pass down their call stack, so it is a frame local in every frame
    an error report (Django's HTML report, an error tracker that keeps frame
    variables) may show. Those reports ``repr()`` values; this one answers
    ``'Bearer ********'``. ``http.client`` encodes it like any ``str``.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'Bearer ********'"


class BearerAuth(requests.auth.AuthBase):
    """Adds the bearer token at send time; its repr never shows the token."""

    @sensitive_variables("token")
    def __init__(self, token: str) -> None:
        self._token = token

    @sensitive_variables()
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = RedactedHeaderValue(f"Bearer {self._token}")
        return request

    def __repr__(self) -> str:
        return "BearerAuth(********)"


class Session(requests.Session):
    """A ``requests.Session`` that reads the proxy and CA bundle environment once per host.

    ``requests`` reads them for every request (``HTTPS_PROXY``, ``NO_PROXY``,
    ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``): a walk over ``os.environ``
    that cost a quarter of a millisecond of each send's CPU (bench/RESULTS.md,
    "Session 5"). They are set before a process starts, so this session keeps
    what it found per scheme and host; the result is what ``requests`` would
    have used.
    """

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str, str | None], tuple[dict[str, str], str | None]] = {}

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        if not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        no_proxy = proxies.get("no_proxy") if proxies is not None else None
        parts = urlsplit(str(url))
        key = (parts.scheme, parts.netloc, no_proxy)
        found = self._environment.get(key)
        if found is None:
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            found = self._environment[key] = (get_environ_proxies(str(url), no_proxy=no_proxy), bundle)
        env_proxies, bundle = found
        if proxies is not None:
            for name, proxy in env_proxies.items():
                proxies.setdefault(name, proxy)
        if (verify is True or verify is None) and bundle:
            verify = bundle
        return {
            "proxies": merge_setting(proxies, self.proxies),
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }


@sensitive_variables("token")
def build_session(token: str, *, user_agent_suffix: str = "", pool_maxsize: int = 10) -> requests.Session:
    session = Session()
    session.auth = BearerAuth(token)
    agent = USER_AGENT + (f" {user_agent_suffix}" if user_agent_suffix else "")
    session.headers.update({"User-Agent": agent, "Accept": "application/json"})
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
