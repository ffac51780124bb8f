"""Stickerpacks and stickers (whatsapp-stickerpack-management.md).

Reads take ``?namespace=whatsapp`` (the default) or ``third_party``; packs made
through the API are third-party, and only those can be changed. Every bot also
owns one first-party pack so listing the default namespace returns something.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from ..responses import Call, Response
from ..state import Stickerpack
from ..validation import ValidationError, get_list, get_str, require_object, require_url

NAMESPACES = ("whatsapp", "third_party")
MAX_EMOJIS = 3  # "Three emojis maximum."
STORE_HOSTS = {"ios_app_store_link": "apple.com", "android_app_store_link": "play.google.com"}


def _namespace(call: Call) -> str:
    namespace = call.query.get("namespace") or "whatsapp"
    if namespace not in NAMESPACES:
        raise ValidationError("namespace", f"must be one of {', '.join(NAMESPACES)} (got {namespace!r})")
    return namespace


def _pack(call: Call, namespace: str) -> Stickerpack:
    pack = call.bot_state.stickerpacks.get(call.params["pack_id"])
    if pack is None or pack.namespace != namespace:
        raise ValidationError("stickerpack-id", f"no stickerpack {call.params['pack_id']!r} in namespace {namespace!r}")
    return pack


def _sticker(call: Call, pack: Stickerpack) -> dict[str, Any]:
    sticker = pack.stickers.get(call.params["index"])
    if sticker is None:
        raise ValidationError("sticker-index", f"no sticker {call.params['index']!r} in this stickerpack")
    return sticker


def _pack_fields(body: Any, *, partial: bool) -> dict[str, Any]:
    obj = require_object(body, "body")
    fields = {}
    for key in ("publisher", "name"):
        value = get_str(obj, key, "", required=not partial)
        if value is not None:
            fields[key] = value
    for key, host in STORE_HOSTS.items():
        if obj.get(key) is not None:
            url = require_url(obj[key], key)
            netloc = (urlsplit(url).hostname or "").lower()
            if netloc != host and not netloc.endswith("." + host):
                raise ValidationError(key, f"must be a link to {host}")
            fields[key] = url
    return fields


def _sticker_fields(body: Any, *, partial: bool) -> dict[str, Any]:
    obj = require_object(body, "body")
    fields: dict[str, Any] = {}
    if obj.get("url") is not None or not partial:
        fields["url"] = require_url(obj.get("url"), "url")
    emojis = get_list(obj, "emojis", "", required=False, maximum=MAX_EMOJIS)
    if emojis is not None:
        for index, emoji in enumerate(emojis):
            if not isinstance(emoji, str) or not emoji.strip() or any(char.isascii() for char in emoji):
                raise ValidationError(f"emojis[{index}]", "must be a single emoji")
        fields["emojis"] = emojis
    return fields


def list_packs(call: Call) -> Response:
    namespace = _namespace(call)
    with call.state.lock:
        ids = [{"id": pack.id} for pack in call.bot_state.stickerpacks.values() if pack.namespace == namespace]
    return Response(200, {"stickerpacks": ids})


def get_pack(call: Call) -> Response:
    with call.state.lock:
        return Response(200, _pack(call, _namespace(call)).info())


def create_pack(call: Call) -> Response:
    fields = _pack_fields(call.json(), partial=False)
    pack = Stickerpack(id=str(uuid.uuid4()), namespace="third_party", **fields)
    with call.state.lock:
        call.bot_state.stickerpacks[pack.id] = pack
    return Response(201, {"id": pack.id})


def update_pack(call: Call) -> Response:
    fields = _pack_fields(call.json() or {}, partial=True)
    with call.state.lock:
        pack = _pack(call, "third_party")
        for key, value in fields.items():
            setattr(pack, key, value)
    return Response(200)


def delete_pack(call: Call) -> Response:
    with call.state.lock:
        pack = _pack(call, "third_party")
        del call.bot_state.stickerpacks[pack.id]
    return Response(200)


def list_stickers(call: Call) -> Response:
    with call.state.lock:
        pack = _pack(call, _namespace(call))
        return Response(200, {"stickers": [{"index": index} for index in pack.stickers]})


def get_sticker(call: Call) -> Response:
    with call.state.lock:
        sticker = _sticker(call, _pack(call, _namespace(call)))
        return Response(200, {"id": sticker["id"], "emojis": list(sticker["emojis"])})


def create_sticker(call: Call) -> Response:
    fields = _sticker_fields(call.json(), partial=False)
    with call.state.lock:
        index = _pack(call, "third_party").add_sticker(fields["url"], fields.get("emojis", []))
    return Response(201, {"index": index})


def update_sticker(call: Call) -> Response:
    """The page says "Empty response body" and then shows ``{"index": "0"}``; the sandbox sends the latter."""
    fields = _sticker_fields(call.json() or {}, partial=True)
    with call.state.lock:
        _sticker(call, _pack(call, "third_party")).update(fields)
    return Response(200, {"index": call.params["index"]})


def delete_sticker(call: Call) -> Response:
    with call.state.lock:
        pack = _pack(call, "third_party")
        _sticker(call, pack)
        del pack.stickers[call.params["index"]]
    return Response(200)


ROUTES = [
    ("GET", "stickerpacks", list_packs),
    ("POST", "stickerpacks", create_pack),
    ("GET", "stickerpacks/{pack_id}", get_pack),
    ("PATCH", "stickerpacks/{pack_id}", update_pack),
    ("DELETE", "stickerpacks/{pack_id}", delete_pack),
    ("GET", "stickerpacks/{pack_id}/stickers", list_stickers),
    ("POST", "stickerpacks/{pack_id}/stickers", create_sticker),
    ("GET", "stickerpacks/{pack_id}/stickers/{index}", get_sticker),
    ("PATCH", "stickerpacks/{pack_id}/stickers/{index}", update_sticker),
    ("DELETE", "stickerpacks/{pack_id}/stickers/{index}", delete_sticker),
]
