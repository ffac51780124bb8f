"""What the Conversation sandbox remembers: access keys, apps, tokens, messages, and injected token faults.

Hold ``lock`` while reading or changing any of it.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

REGIONS = ("us", "eu", "br")


@dataclass
class App:
    """A Conversation API app with a WhatsApp channel, in one region, with one webhook."""

    project_id: str
    app_id: str
    region: str = "us"
    webhook_url: str | None = None
    webhook_secret: str | None = None
    #: numbers (digits) a capability lookup reports as NO_CAPABILITY; sends to them FAIL.
    incapable: set[str] = field(default_factory=set)
    #: numbers (digits) whose opt-in/opt-out registrations are reported OPT_IN_FAILED/OPT_OUT_FAILED.
    consent_refused: set[str] = field(default_factory=set)
    #: False: optins:register and optouts:register answer 404, as Sinch may for WhatsApp (docs README).
    consent_endpoints: bool = True

    def public(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "app_id": self.app_id,
            "region": self.region,
            "webhook_url": self.webhook_url,
            "signed": bool(self.webhook_secret),
        }


@dataclass
class Token:
    key_id: str
    project_id: str
    expires_at: float


class ConversationState:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        with self.lock:
            #: key_id -> (secret, project_id)
            self.keys: dict[str, tuple[str, str]] = {}
            #: (project_id, app_id) -> App
            self.apps: dict[tuple[str, str], App] = {}
            self.tokens: dict[str, Token] = {}
            self.token_requests = 0
            self.token_expires_in = 3600
            #: the next n token requests answer 429 (the token endpoint's rate limit)
            self.token_429 = 0
            self.messages: dict[str, dict[str, Any]] = {}
            self.inbound: dict[str, dict[str, Any]] = {}
            self.events: list[dict[str, Any]] = []
            self.capability_queries: list[dict[str, Any]] = []

    def issue_token(self, key_id: str) -> tuple[str, int]:
        with self.lock:
            token = "sbx-" + secrets.token_urlsafe(24)
            self.tokens[token] = Token(key_id, self.keys[key_id][1], time.time() + self.token_expires_in)
            return token, self.token_expires_in

    def expire_tokens(self) -> int:
        """Make every issued token expired (the next API call answers 401 'expired')."""
        with self.lock:
            for token in self.tokens.values():
                token.expires_at = 0.0
            return len(self.tokens)
