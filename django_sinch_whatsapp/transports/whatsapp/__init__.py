"""The standalone WhatsApp API (bot id + bearer token) behind the seam: a thin wrapper of today's client.

The client (:mod:`django_sinch_whatsapp.client`), callback parsing and
signature (:mod:`django_sinch_whatsapp.callbacks`) stay where they are for
now; this adapter only presents them through :class:`~..base.Transport`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from ...callbacks import parsing, signature
from ...callbacks.events import CallbackParseError, ParsedCallback, StatusUpdate
from ...client.client import MAX_NUMBERS_PER_REQUEST
from ..base import Feature, SentMessage, Transport, WireRequest


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

    def verify_signature(
        self, headers: Mapping[str, str], raw_body: bytes, keys: Iterable[tuple[str, str]], *, now: float | None = None
    ) -> str:
        found = signature.SignatureHeaders.from_headers(headers)
        if found is None:
            raise signature.SignatureError("the callback carries no signature headers")
        return signature.verify(found, raw_body, keys)

    def parse_callback(self, payload: Any) -> ParsedCallback:
        return parsing.parse_callback(payload)
