"""What the endpoint mixins of :class:`~.client.SinchWhatsAppClient` share.

The mixins (:mod:`.provisioning`, :mod:`.stickerpacks`, :mod:`.groups`) only
build paths and bodies and read answers; the transport, retries and the error
tree are the client's own ``request``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..exceptions import MessageValidationError

if TYPE_CHECKING:
    import requests

#: whatsapp-opt-in-and-outs.md, whatsapp-blacklist-callback.md: "1 to 20 elements".
MAX_NUMBERS = 20


class EndpointMixin:
    """Base of the endpoint mixins; the client supplies ``request``."""

    if TYPE_CHECKING:

        def path(self, suffix: str) -> str: ...

        def request(
            self,
            method: str,
            suffix: str,
            *,
            json_body: Any = None,
            params: dict[str, Any] | None = None,
            idempotent: bool,
        ) -> requests.Response: ...


def response_json(response: requests.Response) -> Any:
    """The answer's JSON, ``{}`` for an empty or non-JSON body (Sinch's "Empty response body")."""
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return {}


def segment(field: str, value: str) -> str:
    """One path segment from an id or name, percent-encoded; empty or dot ids are refused before any call."""
    text = str(value) if value is not None else ""
    if not text.strip() or text in (".", ".."):
        raise MessageValidationError(field, "must be a non-empty identifier", actual=value)
    # ':' is a legal path character and group ids contain it ("group:447506616260-1565342732").
    return quote(text, safe=":")


def numbers_body(numbers: Sequence[str], field: str = "numbers") -> dict[str, list[str]]:
    """``{"numbers": [...]}`` with 1 to 20 MSISDNs, checked before any call."""
    if isinstance(numbers, str):
        raise MessageValidationError(field, "must be a list of numbers, not a string")
    values = [str(number) for number in numbers]
    if not 1 <= len(values) <= MAX_NUMBERS:
        raise MessageValidationError(
            field,
            f"has {len(values)} entries; Sinch takes 1 to {MAX_NUMBERS} per request",
            limit=MAX_NUMBERS,
            actual=len(values),
        )
    return {"numbers": values}


def require_text(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MessageValidationError(field, "is required and must be a non-empty string", actual=value)
    return value
