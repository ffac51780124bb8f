"""ConversationTransport: the WhatsApp channel of the Sinch Conversation API behind the seam."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.utils.translation import gettext_lazy as _

from ...callbacks.events import ParsedCallback, StatusUpdate
from ...callbacks.signature import SignatureError
from ..base import CapabilityAnswer, Feature, SentMessage, Transport, WireRequest
from ..events import ConversationStatusUpdate
from . import signature, wire
from .client import ConversationClient


class ConversationTransport(Transport):
    """One request per recipient; capability and consent answered by callbacks; no legacy extras.

    Capability is asynchronous: ``capability:query`` is answered by a
    ``capability_notification`` callback, so :meth:`check_capability` answers
    ``pending`` and processing settles the contact. Opt-in and opt-out
    (``optins:register``/``optouts:register``) are optional on this API (docs
    README: WhatsApp needs no opt-in registration there, and Sinch may no longer
    answer them); when they answer, their ``opt_in_notification``/``opt_out_notification``
    callbacks are applied to the contact.

    docs README, "Not in the Conversation API": stickerpacks, the blacklist, the
    callback store, multi-recipient sends, synchronous capability (and media
    providers and groups, which only the standalone API had).

    A send whose answer was lost cannot be looked up by our correlation id: ``GET /messages`` lists
    a contact's or a conversation's messages (conversation-api.yaml, Conversation_ListMessages), and a
    send by phone number leaves us neither id. Nor does silence prove anything: delivery reports come
    only for the triggers the app's webhook subscribes to, and no retry schedule is documented. So
    such a send is never confirmed absent (its retry stays refused); a report carrying its
    correlation id still settles it.
    """

    name = "conversation"
    recipients_per_request = wire.RECIPIENTS_PER_REQUEST
    features = frozenset({Feature.CAPABILITY, Feature.OPT_IN, Feature.MARK_AS_READ, Feature.MESSAGE_LOOKUP})
    signature_headers = signature.HEADERS
    credential_fields = ("project_id", "app_id", "key_id", "key_secret", "conversation_region")
    secret_field = "key_secret"
    location_fields = ("conversation_region", "base_url_override")
    form_title = _("Conversation API")
    form_fields = credential_fields
    form_description = _(
        "Used by bots on the 'conversation' transport (the Conversation API's WhatsApp channel: "
        "project, app, access key). The access key secret is write-only."
    )

    @classmethod
    def bot_label(cls, bot: Any) -> str:
        where = f"{cls.name} {bot.conversation_region.upper()}".rstrip()
        if bot.base_url_override:
            from urllib.parse import urlsplit

            where += f" via {urlsplit(bot.base_url_override).netloc}"
        return f"{bot.name} ({bot.app_id or bot.project_id}, {where})"

    def __init__(self, client: ConversationClient | None = None, *, project_id: str = "", app_id: str = "") -> None:
        super().__init__(client)
        self.project_id = project_id or (client.project_id if client else "")
        self.app_id = app_id or (client.app_id if client else "")

    @classmethod
    def from_bot(cls, bot: Any) -> ConversationTransport:
        """Pooled per bot, app, region, host and key (:func:`.pool.pooled_transport`)."""
        from .pool import pooled_transport

        return pooled_transport(bot)

    def verify_credentials(self) -> None:
        """An OAuth token is issued only for a valid access key id and secret."""
        self._client().tokens.token()

    def build_requests(
        self,
        message: Mapping[str, Any],
        recipients: Sequence[str],
        *,
        correlation_ids: Sequence[str] = (),
        callback_url: str = "",
    ) -> list[WireRequest]:
        if correlation_ids and len(correlation_ids) != len(recipients):
            raise ValueError("give one correlation id per recipient, or none")
        requests = []
        for index, recipient in enumerate(recipients):
            correlation_id = str(correlation_ids[index]) if correlation_ids else ""
            body = wire.send_body(
                project_id=self.project_id,
                app_id=self.app_id,
                message=message,
                recipient=recipient,
                correlation_id=correlation_id,
                callback_url=callback_url,
            )
            requests.append(WireRequest("POST", "messages:send", body, (recipient,), correlation_id))
        return requests

    def send(self, request: WireRequest) -> list[SentMessage]:
        if self.client is None:
            raise RuntimeError("this ConversationTransport has no client; build it with one to send")
        result = self.client.send_message(request.body)
        return [SentMessage(request.recipients[0], result.message_id, "queued", result.raw)]

    def _client(self) -> ConversationClient:
        if self.client is None:
            raise RuntimeError("this ConversationTransport has no client; build it with one to call Sinch")
        return self.client

    def check_capability(self, recipients: Sequence[str]) -> list[CapabilityAnswer]:
        """``capability:query`` per number (conversation-capability.md); each answer is ``pending``."""
        answers = []
        for recipient in recipients:
            request_id = new_request_id()
            answer = self._client().query_capability(recipient, request_id)
            given = str(answer.get("request_id") or request_id)
            answers.append(CapabilityAnswer(recipient, None, pending=True, request_id=given))
        return answers

    def opt_in(self, recipients: Sequence[str]) -> None:
        """``optins:register`` per number (conversation-optin.md); confirmed later by ``opt_in_notification``."""
        for recipient in recipients:
            self._client().register_consent("opt_in", recipient, new_request_id())

    def opt_out(self, recipients: Sequence[str], *, deprecated_endpoint: bool = False) -> None:
        """``optouts:register`` per number; the standalone API's deprecated endpoint has no counterpart here."""
        if deprecated_endpoint:
            self.require(Feature.DEPRECATED_OPT_OUT)
        for recipient in recipients:
            self._client().register_consent("opt_out", recipient, new_request_id())

    def mark_as_read(self, message_id: str, recipient: str) -> None:
        """``events:send`` with a ``read_message_event`` to the contact who wrote."""
        self._client().mark_as_read(message_id, recipient)

    def lookup_statuses(self, message_id: str) -> list[StatusUpdate]:
        """``GET /messages/{id}``: Sinch keeps the message but not its delivery state.

        Found means accepted (``queued``): that settles a row whose send answer was
        lost (``unknown``) and says nothing newer to a row already past queued (the
        state machine keeps the later state). Not found is Sinch's 404, raised.
        """
        found = self._client().get_message(message_id)
        identity = str((found.get("channel_identity") or {}).get("identity") or "")
        return [
            ConversationStatusUpdate(
                message_id=message_id,
                state="queued",
                status="ACCEPTED",
                details="GET /messages: accepted by the Conversation API (it keeps no delivery state)",
                recipient=identity,
                recipient_e164=f"+{identity}" if identity else "",
                raw=found,
            )
        ]

    def verify_signature(
        self, headers: Mapping[str, str], raw_body: bytes, keys: Iterable[tuple[str, str]], *, now: float | None = None
    ) -> str:
        from ...conf import app_settings

        found = signature.WebhookSignature.from_headers(headers)
        if found is None:
            raise SignatureError("the callback carries no x-sinch-webhook-signature headers")
        tolerance = float(app_settings.CONVERSATION_SIGNATURE_TOLERANCE)
        return signature.verify(found, raw_body, keys, tolerance=tolerance, now=now)

    def signature_nonce(self, headers: Mapping[str, str]) -> str:
        """The nonce of a verified callback, for the caller's replay check."""
        found = signature.WebhookSignature.from_headers(headers)
        return found.nonce if found else ""

    def parse_callback(self, payload: Any) -> ParsedCallback:
        from .parsing import parse_callback

        return parse_callback(payload)


def new_request_id() -> str:
    """An id for an asynchronous request (capability, consent): Sinch echoes it in the callback."""
    return uuid.uuid4().hex
