"""In-memory state of the sandbox: bots and everything each bot owns, plus the logs.

One re-entrant lock guards all of it; hold ``state.lock`` while reading or
changing a ``BotState``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# whatsapp-introduction.md, "Base URL": one host per region, not interchangeable.
REGION_PREFIXES = {"us": "us1", "us1": "us1", "eu": "eu1", "eu1": "eu1"}
SIGNATURE_ENCODINGS = ("base64", "hex")
# whatsapp-opt-in-and-outs.md: a message from the user is a temporary opt-in for 24 hours.
CUSTOMER_CARE_WINDOW_SECONDS = 24 * 3600


def region_prefix(region: str) -> str:
    """``"us"``/``"us1"`` -> ``"us1"``, ``"eu"``/``"eu1"`` -> ``"eu1"``; ValueError otherwise."""
    try:
        return REGION_PREFIXES[str(region).strip().lower()]
    except KeyError:
        raise ValueError(f"unknown region {region!r}; use 'us' or 'eu'") from None


@dataclass
class Bot:
    """A bot as Sinch provisions it: id, bearer token, region and callback settings."""

    bot_id: str
    token: str
    region: str = "us1"
    callback_url: str | None = None
    callback_key: str | None = None
    signature_encoding: str = "base64"
    require_opt_in: bool = False
    msisdn: str | None = None

    def public(self) -> dict[str, Any]:
        """The settings without the secrets (for the control API)."""
        return {
            "bot_id": self.bot_id,
            "region": self.region,
            "callback_url": self.callback_url,
            "signs_callbacks": bool(self.callback_key),
            "signature_encoding": self.signature_encoding,
            "require_opt_in": self.require_opt_in,
            "msisdn": self.msisdn,
        }


@dataclass
class Stickerpack:
    id: str
    namespace: str
    publisher: str
    name: str
    ios_app_store_link: str | None = None
    android_app_store_link: str | None = None
    stickers: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_index: int = 0

    def info(self) -> dict[str, Any]:
        data: dict[str, Any] = {"publisher": self.publisher, "name": self.name}
        for key in ("ios_app_store_link", "android_app_store_link"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data

    def add_sticker(self, url: str | None, emojis: list[str]) -> str:
        index = str(self.next_index)
        self.next_index += 1
        self.stickers[index] = {"id": str(uuid.uuid4()), "url": url, "emojis": list(emojis)}
        return index


def _first_party_pack(bot_id: str) -> Stickerpack:
    """A WhatsApp (first-party) stickerpack every sandbox bot can list, with stable ids."""
    pack_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox:{bot_id}:whatsapp-pack"))
    pack = Stickerpack(pack_id, "whatsapp", publisher="WhatsApp", name="Sandbox Cuppy")
    for emoji in ("\U0001f425", "\U0001f603"):
        index = pack.add_sticker(None, [emoji])
        pack.stickers[index]["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{pack_id}:{index}"))
    return pack


@dataclass
class BotState:
    """Everything one bot owns. Numbers are keyed by their digits (no ``+``)."""

    bot: Bot
    opted_in: dict[str, str] = field(default_factory=dict)
    capability: dict[str, bool] = field(default_factory=dict)
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    blacklist: dict[str, None] = field(default_factory=dict)
    stickerpacks: dict[str, Stickerpack] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbound: dict[str, dict[str, Any]] = field(default_factory=dict)
    inbound: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_inbound: dict[str, float] = field(default_factory=dict)
    status_store: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notification_store: list[tuple[datetime, str, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        pack = _first_party_pack(self.bot.bot_id)
        self.stickerpacks[pack.id] = pack

    def capable(self, digits: str) -> bool:
        """whatsapp-capability.md: numbers are capable unless the sandbox was told otherwise."""
        return self.capability.get(digits, True)

    def may_message(self, digits: str, now: float | None = None) -> bool:
        """Opted in, or inside the 24-hour window opened by the user's last message."""
        if digits in self.opted_in:
            return True
        last = self.last_inbound.get(digits)
        return last is not None and (now or time.time()) - last < CUSTOMER_CARE_WINDOW_SECONDS


class SandboxState:
    """Bots by id, the request and callback logs, and a few counters."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.bots: dict[str, BotState] = {}
        self.requests_log: list[dict[str, Any]] = []
        self.callback_log: list[dict[str, Any]] = []
        self.counters: Counter[str] = Counter()

    def register_bot(self, bot: Bot) -> BotState:
        """Add a bot, or update the settings of a known one while keeping its data."""
        with self.lock:
            existing = self.bots.get(bot.bot_id)
            if existing is not None:
                existing.bot = bot
                return existing
            state = self.bots[bot.bot_id] = BotState(bot)
            return state

    def get(self, bot_id: str) -> BotState | None:
        with self.lock:
            return self.bots.get(bot_id)

    def require(self, bot_id: str) -> BotState:
        state = self.get(bot_id)
        if state is None:
            raise KeyError(f"unknown sandbox bot {bot_id!r}")
        return state

    def log_request(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests_log.append(entry)
            self.counters["requests"] += 1

    def log_callback(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.callback_log.append(entry)
            ok = entry.get("status") is not None and 200 <= entry["status"] < 300
            self.counters["callbacks_delivered" if ok else "callback_attempts_failed"] += 1

    def clear(self) -> None:
        with self.lock:
            self.bots.clear()
            self.requests_log.clear()
            self.callback_log.clear()
            self.counters.clear()
