"""Stickerpack and sticker endpoints of the client (whatsapp-stickerpack-management.md).

Reads take an optional ``namespace`` (``whatsapp``, Sinch's default, or
``third_party``); writes act on third-party packs only and take none. Creating
a pack or a sticker is never repeated automatically: a retry after a request
that reached Sinch would make a second one. Updates overwrite the fields they
name and deletes are final, so both may be repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..exceptions import MessageValidationError
from .mixin import EndpointMixin, require_text, response_json, segment
from .results import StickerInfo, StickerpackInfo, ids_from_wire

NAMESPACES = ("whatsapp", "third_party")
#: "Each emoji should be a single character. Three emojis maximum."
MAX_STICKER_EMOJIS = 3
_STORE_LINKS = ("ios_app_store_link", "android_app_store_link")


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
        # One emoji may be several code points (flags, skin tones), so "single character" is not checked by length.
        if not isinstance(emoji, str) or not emoji.strip():
            raise MessageValidationError(f"emojis[{position}]", "must be a non-empty emoji", actual=emoji)
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
                "ios_app_store_link": ios_app_store_link or None,
                "android_app_store_link": android_app_store_link or None,
            }
        )
        response = self.request("POST", "stickerpacks", json_body=body, idempotent=False)
        data = response_json(response)
        return str(data.get("id", "")) if isinstance(data, dict) else ""

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
                "ios_app_store_link": ios_app_store_link,
                "android_app_store_link": android_app_store_link,
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
        body: dict[str, Any] = {"url": require_text("url", url)}
        if emojis:
            body["emojis"] = _emojis(emojis)
        response = self.request("POST", self._sticker_path(stickerpack_id), json_body=body, idempotent=False)
        data = response_json(response)
        return str(data.get("index", "")) if isinstance(data, dict) else ""

    def update_sticker(
        self, stickerpack_id: str, index: str, *, url: str | None = None, emojis: Sequence[str] | None = None
    ) -> None:
        """``PATCH /stickerpacks/{id}/stickers/{index}``: replace the image and/or the emojis."""
        body: dict[str, Any] = {}
        if url is not None:
            body["url"] = require_text("url", url)
        if emojis is not None:
            body["emojis"] = _emojis(emojis)
        if not body:
            raise MessageValidationError("sticker", "needs url or emojis to update")
        self.request("PATCH", self._sticker_path(stickerpack_id, index), json_body=body, idempotent=True)

    def delete_sticker(self, stickerpack_id: str, index: str) -> None:
        """``DELETE /stickerpacks/{id}/stickers/{index}``."""
        self.request("DELETE", self._sticker_path(stickerpack_id, index), idempotent=True)
