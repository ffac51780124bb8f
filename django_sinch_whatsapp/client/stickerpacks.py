"""Stickerpack and sticker endpoints of the client (whatsapp-stickerpack-management.md).

Reads take an optional ``namespace`` (``whatsapp``, Sinch's default, or
``third_party``); writes act on third-party packs only and take none. Creating
a pack or a sticker is never repeated automatically: a retry after a request
that reached Sinch would make a second one. Updates overwrite the fields they
name and deletes are final, so both may be repeated.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ..exceptions import MessageValidationError, SinchUnexpectedAnswer
from .messages.checks import _url
from .mixin import EndpointMixin, require_text, response_json, segment
from .results import StickerInfo, StickerpackInfo, ids_from_wire

NAMESPACES = ("whatsapp", "third_party")
#: "Each emoji should be a single character. Three emojis maximum."
MAX_STICKER_EMOJIS = 3
#: "Valid Apple iOs App Store URL" / "Valid Google Play store URL": the stores' own hosts.
_STORE_HOSTS = {
    "ios_app_store_link": ("apps.apple.com", "itunes.apple.com"),
    "android_app_store_link": ("play.google.com",),
}
#: Code points that join the character before them into one user-visible character (UAX #29 Extend,
#: as far as emojis use it): variation selectors, skin tones, tags, the keycap mark.
_EXTENDING_RANGES = ((0xFE00, 0xFE0F), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F), (0x20E3, 0x20E3))
_ZERO_WIDTH_JOINER = "\u200d"


def _extends(char: str) -> bool:
    point = ord(char)
    if any(low <= point <= high for low, high in _EXTENDING_RANGES):
        return True
    return unicodedata.category(char) in ("Mn", "Me", "Mc")


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def user_visible_characters(text: str) -> int:
    """How many user-visible characters (grapheme clusters) ``text`` shows, for emoji-like text.

    A flag (two regional indicators), a skin-toned or variation-selected emoji, a keycap and a
    zero-width-joined family each count once; a combining mark joins the character before it.
    """
    count, position = 0, 0
    while position < len(text):
        char = text[position]
        position += 1
        count += 1
        if _is_regional_indicator(char) and position < len(text) and _is_regional_indicator(text[position]):
            position += 1
        while position < len(text):
            if _extends(text[position]):
                position += 1
            elif text[position] == _ZERO_WIDTH_JOINER:
                position += 1
                if position < len(text) and not _extends(text[position]):
                    position += 1  # the joined pictograph
            else:
                break
    return count


def _store_link(field: str, value: str | None) -> str | None:
    """A store link as the page asks for it: an http(s) URL on that store's host."""
    if value is None or value == "":
        return None
    _url(value, field)
    host = (urlsplit(value).hostname or "").lower()
    if host not in _STORE_HOSTS[field]:
        raise MessageValidationError(
            field,
            f"is on {host!r}; it must be a link to the store ({' or '.join(_STORE_HOSTS[field])})",
            actual=value[:100],
        )
    return value


def _missing(what: str, method: str, path: str, response: Any) -> SinchUnexpectedAnswer:
    return SinchUnexpectedAnswer(
        "Unexpected answer",
        f"{response.status_code} without {what}; it may exist at Sinch: sync to find it",
        status_code=response.status_code,
        method=method,
        path=path,
        response_text=response.text,
    )


def _namespace_params(namespace: str | None) -> dict[str, str] | None:
    if namespace is None:
        return None  # Sinch's default, "whatsapp"
    if namespace not in NAMESPACES:
        raise MessageValidationError("namespace", f"must be one of {', '.join(NAMESPACES)}", actual=namespace)
    return {"namespace": namespace}


def _emojis(emojis: Sequence[str]) -> list[str]:
    if isinstance(emojis, str):
        raise MessageValidationError("emojis", "must be a list of emojis, not a string")
    values = list(emojis)
    if len(values) > MAX_STICKER_EMOJIS:
        raise MessageValidationError(
            "emojis",
            f"has {len(values)} entries; {MAX_STICKER_EMOJIS} maximum",
            limit=MAX_STICKER_EMOJIS,
            actual=len(values),
        )
    for position, emoji in enumerate(values):
        if not isinstance(emoji, str) or not emoji.strip() or emoji != emoji.strip():
            raise MessageValidationError(f"emojis[{position}]", "must be a non-empty emoji", actual=emoji)
        # "Each emoji should be a single character": one user-visible character, which may be several
        # code points (flags, skin tones, families), so the length in code points is not the rule.
        shown = user_visible_characters(emoji)
        if shown != 1:
            raise MessageValidationError(
                f"emojis[{position}]",
                f"is {shown} characters; each emoji entry must be a single character (whatsapp-stickerpack-management.md)",
                limit=1,
                actual=shown,
            )
    return values


def _pack_body(fields: dict[str, str | None]) -> dict[str, str]:
    return {key: value for key, value in fields.items() if value is not None}


class StickerpackMixin(EndpointMixin):
    # -- stickerpacks -----------------------------------------------------------

    def list_stickerpacks(self, namespace: str | None = None) -> list[str]:
        """``GET /stickerpacks``: the ids of the packs in ``namespace`` (Sinch's default: ``whatsapp``)."""
        response = self.request("GET", "stickerpacks", params=_namespace_params(namespace), idempotent=True)
        return ids_from_wire(response_json(response), "stickerpacks", "id")

    def get_stickerpack(self, stickerpack_id: str, namespace: str | None = None) -> StickerpackInfo:
        """``GET /stickerpacks/{id}``: publisher, name and store links."""
        path = f"stickerpacks/{segment('stickerpack_id', stickerpack_id)}"
        response = self.request("GET", path, params=_namespace_params(namespace), idempotent=True)
        return StickerpackInfo.from_wire(stickerpack_id, response_json(response))

    def create_stickerpack(
        self,
        *,
        publisher: str,
        name: str,
        ios_app_store_link: str | None = None,
        android_app_store_link: str | None = None,
    ) -> str:
        """``POST /stickerpacks``: make a third-party pack; returns its id."""
        body = _pack_body(
            {
                "publisher": require_text("publisher", publisher),
                "name": require_text("name", name),
                "ios_app_store_link": _store_link("ios_app_store_link", ios_app_store_link),
                "android_app_store_link": _store_link("android_app_store_link", android_app_store_link),
            }
        )
        response = self.request("POST", "stickerpacks", json_body=body, idempotent=False)
        data = response_json(response)
        sinch_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(sinch_id, str) or not sinch_id.strip():
            raise _missing("the stickerpack id", "POST", self.path("stickerpacks"), response)
        return sinch_id

    def update_stickerpack(
        self,
        stickerpack_id: str,
        *,
        publisher: str | None = None,
        name: str | None = None,
        ios_app_store_link: str | None = None,
        android_app_store_link: str | None = None,
    ) -> None:
        """``PATCH /stickerpacks/{id}``: each field given overwrites the pack's value."""
        body = _pack_body(
            {
                "publisher": publisher,
                "name": name,
                "ios_app_store_link": _store_link("ios_app_store_link", ios_app_store_link),
                "android_app_store_link": _store_link("android_app_store_link", android_app_store_link),
            }
        )
        if not body:
            raise MessageValidationError("stickerpack", "needs at least one of publisher, name or a store link")
        path = f"stickerpacks/{segment('stickerpack_id', stickerpack_id)}"
        self.request("PATCH", path, json_body=body, idempotent=True)

    def delete_stickerpack(self, stickerpack_id: str) -> None:
        """``DELETE /stickerpacks/{id}`` (third-party packs only)."""
        self.request("DELETE", f"stickerpacks/{segment('stickerpack_id', stickerpack_id)}", idempotent=True)

    # -- stickers in a pack ---------------------------------------------------------

    def _sticker_path(self, stickerpack_id: str, index: str | None = None) -> str:
        path = f"stickerpacks/{segment('stickerpack_id', stickerpack_id)}/stickers"
        return path if index is None else f"{path}/{segment('sticker_index', str(index))}"

    def list_stickers(self, stickerpack_id: str, namespace: str | None = None) -> list[str]:
        """``GET /stickerpacks/{id}/stickers``: the sticker indices (strings, ``"0"``, ``"1"`` ...)."""
        params = _namespace_params(namespace)
        response = self.request("GET", self._sticker_path(stickerpack_id), params=params, idempotent=True)
        return ids_from_wire(response_json(response), "stickers", "index")

    def get_sticker(self, stickerpack_id: str, index: str, namespace: str | None = None) -> StickerInfo:
        """``GET /stickerpacks/{id}/stickers/{index}``: the sticker id a sticker message uses, and its emojis."""
        params = _namespace_params(namespace)
        response = self.request("GET", self._sticker_path(stickerpack_id, index), params=params, idempotent=True)
        return StickerInfo.from_wire(str(index), response_json(response))

    def create_sticker(self, stickerpack_id: str, url: str, emojis: Sequence[str] = ()) -> str:
        """``POST /stickerpacks/{id}/stickers``: add a sticker (512x512 webp, < 100 KB) by URL; returns its index."""
        body: dict[str, Any] = {"url": _url(url, "url")}
        if emojis:
            body["emojis"] = _emojis(emojis)
        response = self.request("POST", self._sticker_path(stickerpack_id), json_body=body, idempotent=False)
        data = response_json(response)
        index = data.get("index") if isinstance(data, dict) else None
        if isinstance(index, int) and not isinstance(index, bool):
            index = str(index)
        if not isinstance(index, str) or not index.strip():
            raise _missing("the sticker index", "POST", self.path(self._sticker_path(stickerpack_id)), response)
        return index

    def update_sticker(
        self, stickerpack_id: str, index: str, *, url: str | None = None, emojis: Sequence[str] | None = None
    ) -> None:
        """``PATCH /stickerpacks/{id}/stickers/{index}``: replace the image and/or the emojis."""
        body: dict[str, Any] = {}
        if url is not None:
            body["url"] = _url(url, "url")
        if emojis is not None:
            body["emojis"] = _emojis(emojis)
        if not body:
            raise MessageValidationError("sticker", "needs url or emojis to update")
        self.request("PATCH", self._sticker_path(stickerpack_id, index), json_body=body, idempotent=True)

    def delete_sticker(self, stickerpack_id: str, index: str) -> None:
        """``DELETE /stickerpacks/{id}/stickers/{index}``."""
        self.request("DELETE", self._sticker_path(stickerpack_id, index), idempotent=True)
