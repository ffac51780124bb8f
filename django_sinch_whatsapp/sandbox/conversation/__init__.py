"""The sandbox's Conversation API: the same local server also stands in for the Conversation hosts.

``sandbox.conversation.url("eu")`` is the base URL override for a Conversation bot
in ``eu`` (tokens then come from ``{url}/oauth2/token``)::

    conversation = sandbox.conversation
    conversation.register_key("key-1", "secret-1", project_id="project-1")
    conversation.register_app("project-1", "app-1", region="eu", webhook_url=..., webhook_secret=...)

Accepted messages get signed delivery reports (``QUEUED_ON_CHANNEL`` -> ``DELIVERED`` ->
``READ``, or ``FAILED`` for numbers marked incapable) on the app's webhook with the
``x-sinch-webhook-signature`` scheme; :meth:`ConversationSandbox.inject_inbound` posts
a contact's message. The control API is under ``/_sandbox/conversation/`` (:mod:`.control`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..callbacks import CallbackStep
from ..ids import iso_timestamp, new_message_id, new_nonce
from .routes import PREFIX
from .signing import sign_headers
from .state import REGIONS, App, ConversationState

if TYPE_CHECKING:
    from ..server import SandboxServer

DELIVERED_PLAN = ("QUEUED_ON_CHANNEL", "DELIVERED", "READ")
FAILED_PLAN = ("QUEUED_ON_CHANNEL", "FAILED")


class ConversationSandbox:
    """State and behaviour of the Conversation wire; every method is thread-safe."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.state = ConversationState()
        #: statuses the next sends report, replacing the default plan (e.g. ["QUEUED_ON_CHANNEL", "READ"])
        self.status_plan: tuple[str, ...] | None = None

    def url(self, region: str = "us") -> str:
        if region not in REGIONS:
            raise ValueError(f"region must be one of {REGIONS}")
        return f"{self.server.base_url}/{PREFIX}/{region}"

    # -- set-up ---------------------------------------------------------------------------------------

    def register_key(self, key_id: str, key_secret: str, *, project_id: str) -> None:
        if not key_id or not key_secret or not project_id:
            raise ValueError("key_id, key_secret and project_id are required")
        with self.state.lock:
            self.state.keys[key_id] = (key_secret, project_id)

    def register_app(
        self,
        project_id: str,
        app_id: str,
        *,
        region: str = "us",
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> App:
        if region not in REGIONS:
            raise ValueError(f"region must be one of {REGIONS}")
        app = App(project_id, app_id, region, webhook_url or None, webhook_secret or None)
        with self.state.lock:
            old = self.state.apps.get((project_id, app_id))
            if old is not None:
                app.incapable = old.incapable
                app.consent_refused, app.consent_endpoints = old.consent_refused, old.consent_endpoints
            self.state.apps[(project_id, app_id)] = app
        return app

    def set_capability(self, project_id: str, app_id: str, number: str, capable: bool) -> None:
        digits = number.strip().lstrip("+")
        with self.state.lock:
            app = self.state.apps[(project_id, app_id)]
            (app.incapable.discard if capable else app.incapable.add)(digits)

    def configure_consent(
        self, project_id: str, app_id: str, *, number: str | None = None, refused: bool = True, endpoints: bool = True
    ) -> None:
        """Registrations for ``number`` are reported failed (``refused``) or not; ``endpoints=False`` makes
        ``optins:register``/``optouts:register`` answer 404, as Sinch may for WhatsApp."""
        with self.state.lock:
            app = self.state.apps[(project_id, app_id)]
            app.consent_endpoints = bool(endpoints)
            if number:
                digits = number.strip().lstrip("+")
                (app.consent_refused.add if refused else app.consent_refused.discard)(digits)

    def configure_tokens(self, *, expires_in: int | None = None, fail_next: int | None = None) -> None:
        """Lifetime of new tokens, and how many next token requests answer 429."""
        with self.state.lock:
            if expires_in is not None:
                self.state.token_expires_in = int(expires_in)
            if fail_next is not None:
                self.state.token_429 = int(fail_next)

    def expire_tokens(self) -> int:
        return self.state.expire_tokens()

    @property
    def token_requests(self) -> int:
        with self.state.lock:
            return self.state.token_requests

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self.state.lock:
            return [dict(record, states=list(record["states"])) for record in self.state.messages.values()]

    def reset(self) -> None:
        self.state.clear()
        self.status_plan = None

    # -- callbacks ------------------------------------------------------------------------------------

    def _step(self, app: App, kind: str, build: Any, message_id: str = "", on_built: Any = None) -> CallbackStep:
        secret = app.webhook_secret

        def sign(body: bytes) -> dict[str, str]:
            headers = {"Content-Type": "application/json"}
            if secret:
                headers.update(sign_headers(secret, body, new_nonce(), int(time.time())))
            return headers

        return CallbackStep(
            bot_id=app.app_id,
            kind=kind,
            url=app.webhook_url,
            key=None,
            encoding="base64",
            build=build,
            on_built=on_built,
            message_id=message_id,
            sign=sign,
        )

    def _envelope(self, app: App, **members: Any) -> dict[str, Any]:
        now = iso_timestamp()
        return {"app_id": app.app_id, "accepted_time": now, "event_time": now, "project_id": app.project_id, **members}

    def record_and_report(self, app: App, message_id: str, identity: str, body: dict[str, Any], accepted: str) -> None:
        """Keep an accepted message and plan its delivery reports."""
        with self.state.lock:
            record = {
                "message_id": message_id,
                "project_id": app.project_id,
                "app_id": app.app_id,
                "identity": identity,
                "body": body,
                "accepted_time": accepted,
                "conversation_id": "conv-" + identity,
                "contact_id": "contact-" + identity,
                "states": [],
            }
            self.state.messages[message_id] = record
            plan = self.status_plan or (FAILED_PLAN if identity in app.incapable else DELIVERED_PLAN)
        steps = [self._status_step(app, record, status) for status in plan]
        self.server.sender.submit(steps, delay=self.server.step_delay)

    def _status_step(self, app: App, record: dict[str, Any], status: str) -> CallbackStep:
        def build() -> dict[str, Any]:
            report: dict[str, Any] = {
                "message_id": record["message_id"],
                "conversation_id": record["conversation_id"],
                "status": status,
                "channel_identity": {"channel": "WHATSAPP", "identity": record["identity"], "app_id": ""},
                "contact_id": record["contact_id"],
                "metadata": record["body"].get("message_metadata", ""),
            }
            if status == "FAILED":
                report["reason"] = {
                    "code": "RECIPIENT_NOT_REACHABLE",
                    "sub_code": "UNSPECIFIED_SUB_CODE",
                    "description": "The underlying channel reported: the number is not on WhatsApp",
                }
            extra = {}
            if record["body"].get("correlation_id"):
                extra["correlation_id"] = record["body"]["correlation_id"]
            return self._envelope(app, message_delivery_report=report, message_metadata=report["metadata"], **extra)

        def on_built(payload: dict[str, Any]) -> None:
            with self.state.lock:
                record["states"].append(status)

        return self._step(app, "status", build, record["message_id"], on_built)

    def report_capability(self, app: App, identity: str, request_id: str) -> None:
        with self.state.lock:
            self.state.capability_queries.append({"identity": identity, "request_id": request_id})
            capable = identity not in app.incapable

        def build() -> dict[str, Any]:
            notification: dict[str, Any] = {
                "contact_id": "contact-" + identity,
                "identity": identity,
                "channel": "WHATSAPP",
                "capability_status": "CAPABILITY_FULL" if capable else "NO_CAPABILITY",
                "request_id": request_id,
            }
            if not capable:
                notification["reason"] = {"code": "RECIPIENT_NOT_REACHABLE", "description": "Not on WhatsApp"}
            return self._envelope(app, capability_notification=notification)

        self.server.sender.submit([self._step(app, "notification", build)], delay=self.server.step_delay)

    def report_consent(self, app: App, kind: str, identity: str, request_id: str) -> None:
        """conversation-callbacks.md, "Opt In" / "Opt Out": the outcome of a registration, signed."""
        with self.state.lock:
            refused = identity in app.consent_refused
        prefix = "OPT_IN" if kind == "opt_in" else "OPT_OUT"
        notification: dict[str, Any] = {
            "contact_id": "contact-" + identity,
            "channel": "WHATSAPP",
            "identity": identity,
            "status": f"{prefix}_FAILED" if refused else f"{prefix}_SUCCEEDED",
            "request_id": request_id,
        }
        if refused:
            notification["error_details"] = {"description": "The channel refused the registration (sandbox)"}
        key = f"{kind}_notification"
        step = self._step(app, "notification", lambda: self._envelope(app, **{key: notification}))
        self.server.sender.submit([step], delay=self.server.step_delay)

    def inject_inbound(
        self,
        project_id: str,
        app_id: str,
        from_number: str,
        text: str | None = None,
        contact_message: dict[str, Any] | None = None,
        reply_to: str | None = None,
    ) -> str:
        """A contact writes to the app: post a signed ``message`` callback; returns its message id."""
        identity = from_number.strip().lstrip("+")
        message_id = new_message_id()
        content = (
            dict(contact_message) if contact_message else {"text_message": {"text": text or "Hello from the sandbox"}}
        )
        if reply_to:
            content["reply_to"] = {"message_id": reply_to}
        with self.state.lock:
            app = self.state.apps[(project_id, app_id)]
            self.state.inbound[message_id] = {"identity": identity, "contact_message": content, "read": False}

        def build() -> dict[str, Any]:
            message = {
                "id": message_id,
                "direction": "TO_APP",
                "contact_message": content,
                "channel_identity": {"channel": "WHATSAPP", "identity": identity, "app_id": ""},
                "conversation_id": "conv-" + identity,
                "contact_id": "contact-" + identity,
                "metadata": "",
                "accept_time": iso_timestamp(),
            }
            return self._envelope(app, message=message, message_metadata="")

        self.server.sender.submit([self._step(app, "notification", build, message_id)])
        return message_id


__all__ = ["DELIVERED_PLAN", "FAILED_PLAN", "PREFIX", "ConversationSandbox"]
