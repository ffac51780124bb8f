"""Where a request goes, read once with the parser the HTTP client itself uses.

A bot's base URL override receives the bot's bearer token, so "which host is
this?" must have one answer. ``urllib.parse`` and urllib3 disagree on some
strings (``http://a:1\\@b:2/`` is host ``b`` to the first, ``a`` to the
second, and urllib3 is the one that connects), so a URL is accepted only when
it is plain: ASCII, no whitespace or control characters, no backslash, no
userinfo, no percent-encoding in the authority, and both parsers read the
same scheme, host and port. The host compared with an allow-list is the one
urllib3 connects to, in a canonical form (lower case; IP literals compressed),
and it must match an entry exactly: ``127.1``, ``2130706433``, ``0x7f.0.0.1``
or ``localhost.`` are not ``127.0.0.1``/``localhost`` here, even where the
resolver would treat them alike.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from ..exceptions import SinchAPIError

ALLOWED_SCHEMES = ("http", "https")


class UnsafeRequestTarget(SinchAPIError):
    """A URL we refuse to send a bot's token to; nothing was sent.

    ``reason`` says what is wrong with the URL, for people and forms.
    """

    def __init__(self, reason: str, *, method: str = "", path: str = "") -> None:
        self.reason = reason
        super().__init__("Refused to send the request", reason, method=method, path=path)


@dataclass(frozen=True)
class RequestTarget:
    """The scheme, canonical host and port a URL connects to."""

    scheme: str
    host: str
    port: int


def canonical_host(host: str) -> str:
    """Lower case; an IP literal (bracketed or not) in its compressed form."""
    bare = host.strip().lower()
    if bare.startswith("[") and bare.endswith("]"):
        bare = bare[1:-1]
    try:
        return ipaddress.ip_address(bare).compressed
    except ValueError:
        return bare


def _authority(url: str) -> str:
    rest = url.split("//", 1)[1] if "//" in url else ""
    for end in "/?#":
        rest = rest.split(end, 1)[0]
    return rest


def parse_target(url: str) -> RequestTarget:
    """The one reading of ``url``; :class:`UnsafeRequestTarget` for anything ambiguous."""
    if not url.isascii():
        raise UnsafeRequestTarget("The URL must be plain ASCII (no internationalised host names).")
    if any(ord(char) <= 32 or ord(char) == 127 for char in url):
        raise UnsafeRequestTarget("The URL must not contain spaces or control characters.")
    if "\\" in url:
        raise UnsafeRequestTarget("The URL must not contain a backslash.")
    authority = _authority(url)
    if "@" in authority:
        raise UnsafeRequestTarget("The URL must not contain a user name or password (user@host).")
    if "%" in authority:
        raise UnsafeRequestTarget("The URL's host must not be percent-encoded.")
    try:
        parsed = parse_url(url)
        split = urlsplit(url)
        split_port = split.port
    except (LocationParseError, ValueError):
        raise UnsafeRequestTarget("The URL cannot be read: check the host and that the port is 1 to 65535.") from None
    scheme = (parsed.scheme or "").lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeRequestTarget("The URL must start with http:// or https://.")
    if parsed.auth is not None or split.username is not None or split.password is not None:
        raise UnsafeRequestTarget("The URL must not contain a user name or password (user@host).")
    if not parsed.host:
        raise UnsafeRequestTarget("The URL has no host.")
    host = canonical_host(parsed.host)
    port = parsed.port or (443 if scheme == "https" else 80)
    if not 0 < port < 65536:
        raise UnsafeRequestTarget("The URL's port is not a valid port number (1 to 65535).")
    other = (split.scheme.lower(), canonical_host(split.hostname or ""), split_port or port)
    if other != (scheme, host, port):
        raise UnsafeRequestTarget("The URL reads differently to different URL parsers; write it plainly.")
    return RequestTarget(scheme=scheme, host=host, port=port)


def check_target(url: str, allowed_hosts: Iterable[str] | None) -> RequestTarget:
    """Parse a base URL (or a base URL and an API path) and, unless ``allowed_hosts`` is None, require its host in it.

    A query or fragment is refused too: the API paths are appended to the base
    URL, and a ``?`` or ``#`` would swallow them.
    """
    target = parse_target(url)
    if "?" in url or "#" in url:
        raise UnsafeRequestTarget("A base URL must not contain a query (?) or a fragment (#).")
    if allowed_hosts is None:
        return target
    allowed = [canonical_host(str(host)) for host in allowed_hosts]
    if not allowed:
        raise UnsafeRequestTarget(
            "Base URL overrides are switched off: SINCH_WHATSAPP['BASE_URL_OVERRIDE_HOSTS'] is empty."
        )
    if target.host not in allowed:
        raise UnsafeRequestTarget(
            f"{target.host} is not an allowed override host (SINCH_WHATSAPP['BASE_URL_OVERRIDE_HOSTS'] = "
            f"{', '.join(allowed)}): the bot's bearer token would be sent there."
        )
    return target
