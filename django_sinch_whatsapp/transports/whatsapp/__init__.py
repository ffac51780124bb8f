"""The standalone WhatsApp API (bot id + bearer token) behind the seam: a thin wrapper of today's client.

The client (:mod:`django_sinch_whatsapp.client`), callback parsing and
signature (:mod:`django_sinch_whatsapp.callbacks.parsing`, ``.signature``) stay
where they are for now; this adapter presents them through
:class:`~..base.Transport`, so nothing above the seam calls them by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from ...callbacks import parsing, signature
from ...callbacks.events import CallbackParseError, ParsedCallback, StatusUpdate
from ...client.client import MAX_NUMBERS_PER_REQUEST
from ..base import CapabilityAnswer, Feature, SentMessage, Transport, WireRequest


class WhatsAppTransport(Transport):
    """``POST /whatsapp/v1/{bot}/messages`` with up to 20 recipients (whatsapp-message.md).

    No lookup by our id: the wire carries no correlation id, and the callback store answers only by
    Sinch's message id (whatsapp-callback-store.md). But Sinch reports every message it queues and
    retries a report for 81,920 s (whatsapp-callback.md: the last retry is 22 h 45 min after the first
    failed attempt): a day of silence about a send whose answer was lost says Sinch never took it.
    """

    name = "whatsapp"
    recipients_per_request = MAX_NUMBERS_PER_REQUEST
    features = frozenset(Feature) - {Feature.CORRELATION_LOOKUP}
    # whatsapp-callback.md: retries end 81,920 s after the first attempt; a day leaves an hour's margin.
    reports_arrive_within = timedelta(hours=24)
    signature_headers = (signature.SIGNATURE_HEADER, signature.NONCE_HEADER, signature.ALGORITHM_HEADER)
    credential_fields = ("sinch_bot_id", "bearer_token")
    secret_field = "bearer_token"
    location_fields = ("region", "base_url_override")
    form_title = _("Standalone WhatsApp API")
    form_fields = ("sinch_bot_id", "region", "bearer_token")
    form_description = _(
        "Used by bots on the 'whatsapp' transport (the standalone API, bot id and bearer token). "
        "The bearer token is write-only."
    )

    @classmethod
    def bot_label(cls, bot: Any) -> str:
        where = bot.region.upper()
        if bot.base_url_override:
            from urllib.parse import urlsplit

            where += f" via {urlsplit(bot.base_url_override).netloc}"
        return f"{bot.name} ({bot.sinch_bot_id}, {where})"

    @classmethod
    def from_bot(cls, bot: Any) -> WhatsAppTransport:
        from ...clients import client_for_bot

        return cls(client_for_bot(bot))

    def verify_credentials(self) -> None:
        """whatsapp-media-provider.md: listing providers is a read-only call that needs a valid token for
        this bot on its region's host. Its answer may hold provider passwords, so nothing of it is kept."""
        self.client.request("GET", "provision/provider", idempotent=True)

    def build_requests(
        self,
        message: Mapping[str, Any],
        recipients: Sequence[str],
        *,
        correlation_ids: Sequence[str] = (),
        callback_url: str = "",
    ) -> list[WireRequest]:
        # The legacy wire has no per-message correlation id: Sinch's ids in the 201 answer are matched instead.
        requests = []
        for batch in self.recipient_batches(recipients):
            body: dict[str, Any] = {"to": list(batch), "message": dict(message)}
            if callback_url:
                body["callback"] = callback_url
            requests.append(WireRequest("POST", "messages", body, batch))
        return requests

    def send(self, request: WireRequest) -> list[SentMessage]:
        statuses = self.client.send_message(
            request.body["to"], request.body["message"], callback=request.body.get("callback")
        )
        return [SentMessage(s.recipient, s.message_id, s.state, {"status": s.status}) for s in statuses]

    def check_capability(self, recipients: Sequence[str]) -> list[CapabilityAnswer]:
        """``POST /capability`` (whatsapp-capability.md): answered in the same call."""
        return [CapabilityAnswer(result.msisdn, result.capable) for result in self.client.capability(list(recipients))]

    def opt_in(self, recipients: Sequence[str]) -> None:
        """``POST /provision/optin`` (whatsapp-opt-in-and-outs.md)."""
        self.client.opt_in(list(recipients))

    def opt_out(self, recipients: Sequence[str], *, deprecated_endpoint: bool = False) -> None:
        """``DELETE /provision/optin``, or the deprecated ``POST /provision/optout``."""
        if deprecated_endpoint:
            self.client.opt_out_deprecated(list(recipients))
        else:
            self.client.opt_out(list(recipients))

    def mark_as_read(self, message_id: str, recipient: str) -> None:
        self.client.mark_as_read(message_id)

    def lookup_statuses(self, message_id: str) -> list[StatusUpdate]:
        """The callback store's stored delivery reports of this message (whatsapp-callback-store.md)."""
        updates: list[StatusUpdate] = []
        for payload in self.client.stored_status_callbacks(message_id):
            try:
                parsed = parsing.parse_callback(payload)
            except CallbackParseError:
                continue
            updates += [u for u in parsed.statuses if u.message_id == message_id]
        return updates

    def signature_nonce(self, headers: Mapping[str, str]) -> str:
        """The nonce of a signed callback; ``SignatureError`` when only some of the three headers are there."""
        found = signature.SignatureHeaders.from_headers(headers)
        return found.nonce if found else ""

    def verify_signature(
        self, headers: Mapping[str, str], raw_body: bytes, keys: Iterable[tuple[str, str]], *, now: float | None = None
    ) -> str:
        found = signature.SignatureHeaders.from_headers(headers)
        if found is None:
            raise signature.SignatureError("the callback carries no signature headers")
        return signature.verify(found, raw_body, keys)

    def parse_callback(self, payload: Any) -> ParsedCallback:
        return parsing.parse_callback(payload)
