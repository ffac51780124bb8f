"""Media providers, blacklist and callback store endpoints of the client.

Idempotency: every call here may be repeated safely. Adding a media provider
overwrites the provider of the same name (whatsapp-media-provider.md), and
adding a number to the blacklist twice leaves one entry, so neither can
duplicate anything when a retry follows a request that did reach Sinch.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from ..exceptions import MessageValidationError
from ..phone import InvalidPhoneNumber, to_e164
from .mixin import EndpointMixin, numbers_body, require_text, response_json, segment
from .results import (
    CALLBACK_STORE_PAGE_SIZE,
    BlacklistPage,
    MediaProviderInfo,
    StoredCallbacksPage,
    callbacks_from_wire,
)

#: whatsapp-media-provider.md: "A-Z, a-z, -, and _ allowed. 200 characters maximum."
MEDIA_PROVIDER_NAME_MAX_LENGTH = 200
MEDIA_PROVIDER_NAME_CHARACTERS = re.compile(r"[A-Za-z_-]+")
#: whatsapp-media-provider.md: ``type`` is always ``www``.
MEDIA_PROVIDER_TYPE = "www"


def validate_media_provider_name(name: Any) -> str:
    """The name as the page constrains it; raises :class:`MessageValidationError` naming the rule."""
    if not isinstance(name, str) or not name:
        raise MessageValidationError("name", "is required", actual=name)
    if len(name) > MEDIA_PROVIDER_NAME_MAX_LENGTH:
        raise MessageValidationError(
            "name",
            f"is {len(name)} characters; {MEDIA_PROVIDER_NAME_MAX_LENGTH} characters maximum",
            limit=MEDIA_PROVIDER_NAME_MAX_LENGTH,
            actual=len(name),
        )
    if not MEDIA_PROVIDER_NAME_CHARACTERS.fullmatch(name):
        bad = sorted({char for char in name if not MEDIA_PROVIDER_NAME_CHARACTERS.fullmatch(char)})
        raise MessageValidationError(
            "name",
            f"may contain only A-Z, a-z, '-' and '_' (found {''.join(bad)!r})",
            limit="A-Z a-z - _",
            actual=name,
        )
    return name


def _moment(field: str, value: datetime | str | None) -> datetime | None:
    """A datetime from a datetime or an ISO-8601 string (``2019-10-02T12:57:37.205Z``); naive ones are UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value
        try:
            value = datetime.fromisoformat(text.strip())
        except ValueError:
            raise MessageValidationError(
                field, f"is {text[:40]!r}; it must be an ISO-8601 time such as 2019-10-02T12:57:37.205Z"
            ) from None
    if not isinstance(value, datetime):
        raise MessageValidationError(field, "must be a datetime or an ISO-8601 string", actual=value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso_time(field: str, value: datetime | str | None) -> str | None:
    """ISO-8601 in UTC as the page's sample writes it (``2019-10-02T12:57:37.205Z``)."""
    moment = _moment(field, value)
    return None if moment is None else moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sender(value: str) -> str:
    """The ``from`` filter: a phone number, sent as Sinch's MSISDN digits (``46732001122``)."""
    try:
        return to_e164(str(value)).lstrip("+")
    except InvalidPhoneNumber as err:
        raise MessageValidationError("from", f"is not a valid phone number: {err.reason}", actual=value) from None


def _positive(field: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise MessageValidationError(field, f"must be an integer of at least {minimum}", limit=minimum, actual=value)
    return value


class ProvisioningMixin(EndpointMixin):
    # -- media providers (whatsapp-media-provider.md) ------------------------

    def add_basic_media_provider(self, name: str, username: str, password: str) -> None:
        """``POST /provision/provider`` with a Basic config; reusing a name overwrites that provider."""
        config = {
            "basic": {"username": require_text("username", username), "password": require_text("password", password)}
        }
        self._add_media_provider(name, config)

    def add_bearer_media_provider(self, name: str, bearer: str) -> None:
        """``POST /provision/provider`` with a Bearer config; reusing a name overwrites that provider."""
        self._add_media_provider(name, {"bearer": require_text("bearer", bearer)})

    def _add_media_provider(self, name: str, config: dict[str, Any]) -> None:
        body = {"name": validate_media_provider_name(name), "type": MEDIA_PROVIDER_TYPE, "config": config}
        self.request("POST", "provision/provider", json_body=body, idempotent=True)

    def list_media_providers(self) -> list[MediaProviderInfo]:
        """``GET /provision/provider``: the nested ``settings.application.media.providers`` list."""
        response = self.request("GET", "provision/provider", idempotent=True)
        return MediaProviderInfo.list_from_wire(response_json(response))

    def delete_media_provider(self, name: str) -> None:
        """``DELETE /provision/provider/{name}``.

        The name is not checked against the 2020-03-10 rules: providers made
        before them may have other names, and must still be deletable.
        """
        self.request("DELETE", f"provision/provider/{segment('name', name)}", idempotent=True)

    # -- blacklist (whatsapp-blacklist-callback.md) ---------------------------

    def blacklist_add(self, numbers: Sequence[str]) -> None:
        """``POST /provision/blacklist``: 1 to 20 numbers stop generating inbound callbacks (within ~5 min)."""
        self.request("POST", "provision/blacklist", json_body=numbers_body(numbers), idempotent=True)

    def blacklist_remove(self, numbers: Sequence[str]) -> None:
        """``DELETE /provision/blacklist`` with 1 to 20 numbers."""
        self.request("DELETE", "provision/blacklist", json_body=numbers_body(numbers), idempotent=True)

    def blacklist_page(self, page: int = 0) -> BlacklistPage:
        """``GET /provision/blacklist?page=N``: page 0 is the first, 100 numbers per page."""
        page = _positive("page", page, 0)
        response = self.request("GET", "provision/blacklist", params={"page": page}, idempotent=True)
        data = response_json(response)
        numbers = data.get("numbers") if isinstance(data, dict) else None
        return BlacklistPage(page=page, numbers=[str(n) for n in numbers] if isinstance(numbers, list) else [])

    def iter_blacklist(self) -> Iterator[str]:
        """Every blacklisted number (as Sinch writes them, ``+46732001122``), fetching pages 0, 1, ... lazily.

        Stops after a page with fewer than 100 numbers, or one that repeats the
        previous page (a server ignoring ``page`` must not make this loop forever).
        """
        page_number, previous = 0, None
        while True:
            page = self.blacklist_page(page_number)
            if page.numbers == previous:
                return
            yield from page.numbers
            if page.is_last:
                return
            page_number, previous = page_number + 1, page.numbers

    # -- callback store (whatsapp-callback-store.md) ---------------------------

    def stored_status_callbacks(self, message_id: str) -> list[dict[str, Any]]:
        """``GET /callbacks/status/{message-id}``: the delivery report callbacks stored for one message."""
        response = self.request("GET", f"callbacks/status/{segment('message_id', message_id)}", idempotent=True)
        return callbacks_from_wire(response_json(response))

    def stored_inbound_notifications(
        self,
        *,
        start_time: datetime | str | None = None,
        end_time: datetime | str | None = None,
        from_number: str | None = None,
        page: int = 1,
        page_size: int = CALLBACK_STORE_PAGE_SIZE,
    ) -> StoredCallbacksPage:
        """``GET /callbacks/notifications`` with a JSON body (like ``GET /capability``); page 1 is the first.

        Omitted times take Sinch's defaults (2019-09-01 and now); ``from_number``
        is the sender's MSISDN as Sinch expects it (``46732001122``).
        """
        body: dict[str, Any] = {
            "page": _positive("page", page, 1),
            "page_size": _positive("page_size", page_size, 1),
        }
        start_moment, end_moment = _moment("start_time", start_time), _moment("end_time", end_time)
        if start_moment and end_moment and start_moment > end_moment:
            raise MessageValidationError(
                "start_time", "is after end_time", actual=_iso_time("start_time", start_moment)
            )
        start, end = _iso_time("start_time", start_moment), _iso_time("end_time", end_moment)
        if start:
            body["start_time"] = start
        if end:
            body["end_time"] = end
        if from_number:
            body["from"] = _sender(from_number)
        response = self.request("GET", "callbacks/notifications", json_body=body, idempotent=True)
        return StoredCallbacksPage(page=page, page_size=page_size, results=callbacks_from_wire(response_json(response)))

    def iter_stored_inbound_notifications(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every stored inbound callback matching ``filters`` (see above), pages 1, 2, ... fetched lazily."""
        page_number = filters.pop("page", 1)
        while True:
            page = self.stored_inbound_notifications(page=page_number, **filters)
            yield from page.results
            if page.is_last:
                return
            page_number += 1
