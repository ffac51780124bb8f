"""Typed answers of the provisioning, callback-store, stickerpack and group endpoints.

Each ``from_wire`` is lenient: a missing or mistyped field becomes an empty
value instead of an exception, because a reader of Sinch's answer should not
fail over a field it does not need. ``raw`` keeps what Sinch sent, except
where that would hold a secret (media provider passwords and bearer tokens).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: whatsapp-blacklist-callback.md: "one hundred numbers per page".
BLACKLIST_PAGE_SIZE = 100
#: whatsapp-callback-store.md: ``page_size`` defaults to 20.
CALLBACK_STORE_PAGE_SIZE = 20


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [_text(item) for item in value if item is not None] if isinstance(value, list) else []


@dataclass(frozen=True)
class MediaProviderInfo:
    """One entry of ``GET /provision/provider`` (whatsapp-media-provider.md).

    ``kind`` is ``basic``, ``bearer`` or ``unknown``. The password and bearer
    token Sinch echoes are kept for callers that need them but never shown in
    ``repr`` (so logging a result leaks nothing).
    """

    name: str
    type: str
    kind: str
    username: str = ""
    password: str = field(default="", repr=False)
    bearer: str = field(default="", repr=False)

    @classmethod
    def from_wire(cls, item: dict[str, Any]) -> MediaProviderInfo:
        config = item.get("config")
        if not isinstance(config, dict):
            config = {}
        basic = config.get("basic")
        if isinstance(basic, dict):
            return cls(
                name=_text(item.get("name")),
                type=_text(item.get("type")),
                kind="basic",
                username=_text(basic.get("username")),
                password=_text(basic.get("password")),
            )
        if "bearer" in config:
            return cls(
                name=_text(item.get("name")),
                type=_text(item.get("type")),
                kind="bearer",
                bearer=_text(config.get("bearer")),
            )
        return cls(name=_text(item.get("name")), type=_text(item.get("type")), kind="unknown")

    @classmethod
    def list_from_wire(cls, data: Any) -> list[MediaProviderInfo]:
        """The page's nested answer: ``{"settings": {"application": {"media": {"providers": [...]}}}}``."""
        node = data
        for key in ("settings", "application", "media", "providers"):
            node = node.get(key) if isinstance(node, dict) else None
        return [cls.from_wire(item) for item in _objects(node)]


@dataclass(frozen=True)
class BlacklistPage:
    """One page of ``GET /provision/blacklist``: ``page`` 0 is the first, up to 100 numbers each."""

    page: int
    numbers: list[str]

    @property
    def is_last(self) -> bool:
        return len(self.numbers) < BLACKLIST_PAGE_SIZE


@dataclass(frozen=True)
class StoredCallbacksPage:
    """One page of ``GET /callbacks/notifications``: ``page`` 1 is the first.

    ``results`` are whole Sinch callbacks (whatsapp-callback.md), as stored.
    """

    page: int
    page_size: int
    results: list[dict[str, Any]]

    @property
    def is_last(self) -> bool:
        return len(self.results) < self.page_size


@dataclass(frozen=True)
class StickerpackInfo:
    """``GET /stickerpacks/{id}`` (whatsapp-stickerpack-management.md); the id is the one asked for."""

    id: str
    publisher: str
    name: str
    ios_app_store_link: str = ""
    android_app_store_link: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_wire(cls, stickerpack_id: str, data: Any) -> StickerpackInfo:
        data = data if isinstance(data, dict) else {}
        return cls(
            id=stickerpack_id,
            publisher=_text(data.get("publisher")),
            name=_text(data.get("name")),
            ios_app_store_link=_text(data.get("ios_app_store_link")),
            android_app_store_link=_text(data.get("android_app_store_link")),
            raw=data,
        )


@dataclass(frozen=True)
class StickerInfo:
    """``GET /stickerpacks/{id}/stickers/{index}``: ``id`` is what a sticker message sends."""

    index: str
    id: str
    emojis: list[str]
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_wire(cls, index: str, data: Any) -> StickerInfo:
        data = data if isinstance(data, dict) else {}
        return cls(index=index, id=_text(data.get("id")), emojis=_strings(data.get("emojis")), raw=data)


@dataclass(frozen=True)
class GroupInfo:
    """``GET /groups/{group-id}`` (whatsapp-api.yaml, ``GroupInformationResponse``; groups are gone upstream)."""

    group_id: str
    subject: str
    creator: str
    creation_time: str
    admins: list[str]
    members: list[str]
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_wire(cls, group_id: str, data: Any) -> GroupInfo:
        data = data if isinstance(data, dict) else {}
        return cls(
            group_id=group_id,
            subject=_text(data.get("subject")),
            creator=_text(data.get("creator")),
            creation_time=_text(data.get("creation_time")),
            admins=_strings(data.get("admins")),
            members=_strings(data.get("members")),
            raw=data,
        )


def ids_from_wire(data: Any, list_key: str, item_key: str) -> list[str]:
    """``{"stickerpacks": [{"id": ...}]}`` -> ids; ``{"stickers": [{"index": ...}]}`` -> indices."""
    items = data.get(list_key) if isinstance(data, dict) else None
    return [_text(item.get(item_key)) for item in _objects(items) if item.get(item_key) is not None]


def callbacks_from_wire(data: Any) -> list[dict[str, Any]]:
    """The ``results`` list of both callback-store answers."""
    return _objects(data.get("results") if isinstance(data, dict) else None)
