"""The OpenAPI description of what the API answers, errors included.

The serializers here only describe responses (nothing is validated with them). Every view of the API
uses :class:`TenantScopedAutoSchema`, which adds the answers every operation can give (see
:func:`with_standard_errors`) to what each view declares with ``extend_schema``. The schemathesis run in
``tests/test_api_schemathesis.py`` holds the API to this description.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .serializers import OutboundMessageSerializer


class ErrorBodySerializer(serializers.Serializer):
    """The one error shape (see :mod:`django_sinch_whatsapp.api.errors`): a stable ``code``, a ``message``
    for people, ``fields`` when the input did not validate, Sinch's own ``message``/``details`` when Sinch
    refused."""

    code = serializers.CharField(
        help_text="Stable: `invalid` (see `fields`), `invalid_message` (a documented limit), `invalid_recipients`, "
        "`invalid_numbers`, `outside_customer_care_window`, `messaging_tier_exceeded`, `feature_not_supported`, "
        "`idempotency_key_reused`, `idempotency_key_in_progress`, `bad_request`, `server_error`, `not_authenticated`, `authentication_failed`, `permission_denied`, `not_found`, `method_not_allowed`, "
        "`not_acceptable`, `unsupported_media_type`, `parse_error`, `body_too_large`, `throttled`, and Sinch's "
        "`sinch_bad_request`, `sinch_unauthorized`, `sinch_unavailable`, `sinch_outcome_unknown`, `sinch_error`."
    )
    message = serializers.CharField(allow_blank=True, help_text="For people; for a Sinch error, Sinch's `message`.")
    fields = serializers.DictField(  # type: ignore[assignment]  # a declared field, popped by the metaclass
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Each field that did not validate (a dotted path, e.g. `to.0`) and its problems.",
    )
    sinch_status = serializers.IntegerField(
        required=False, allow_null=True, help_text="Sinch's HTTP status; null without an answer."
    )
    details = serializers.CharField(required=False, allow_blank=True, help_text="Sinch's own `details`.")
    hint = serializers.CharField(required=False, allow_blank=True)
    field = serializers.CharField(required=False, allow_null=True, help_text="The field over a documented limit.")
    limit = serializers.JSONField(required=False, allow_null=True, help_text="The documented limit.")
    actual = serializers.JSONField(required=False, allow_null=True, help_text="What was given.")


class ErrorSerializer(serializers.Serializer):
    """Every 4xx/5xx answer of the API has this ``error``; a send or numbers answer keeps its outcome beside it."""

    error = ErrorBodySerializer()


class RejectedRecipientSerializer(serializers.Serializer):
    to = serializers.CharField()
    reason = serializers.CharField()


class SendResultSerializer(serializers.Serializer):
    """The rows written for a send (one per recipient) and the recipients refused before sending.

    ``error`` is there when Sinch refused the request (400, 502), was unavailable (503, with
    ``Retry-After``) or may have received it without answering (202, state ``unknown``).
    """

    messages = OutboundMessageSerializer(many=True)
    rejected = RejectedRecipientSerializer(many=True)
    error = ErrorBodySerializer(required=False)


class SendErrorSerializer(ErrorSerializer):
    """A send that failed: the error, and the outcome when rows or rejections are there to report."""

    messages = OutboundMessageSerializer(many=True, required=False)
    rejected = RejectedRecipientSerializer(many=True, required=False)


class RejectedNumberSerializer(serializers.Serializer):
    number = serializers.CharField()
    reason = serializers.CharField()


class FailedBatchSerializer(serializers.Serializer):
    numbers = serializers.ListField(child=serializers.CharField())
    message = serializers.CharField(allow_blank=True)
    details = serializers.CharField(allow_blank=True)


class NumbersOutcomeSerializer(serializers.Serializer):
    """``done`` (E.164) Sinch accepted, numbers ``rejected`` before asking it, batches that ``failed``.

    200 when some number was done (or none was refused), 400 when every number was rejected; when
    every batch failed the answer is Sinch's error (400, 502, 503 or 202) with ``error`` set.
    """

    done = serializers.ListField(child=serializers.CharField())
    rejected = RejectedNumberSerializer(many=True)
    failed = FailedBatchSerializer(many=True)
    error = ErrorBodySerializer(required=False)


class NumbersErrorSerializer(ErrorSerializer):
    """Numbers that failed: the error, and the outcome when there is one."""

    done = serializers.ListField(child=serializers.CharField(), required=False)
    rejected = RejectedNumberSerializer(many=True, required=False)
    failed = FailedBatchSerializer(many=True, required=False)


class CapabilityOutcomeSerializer(NumbersOutcomeSerializer):
    capable = serializers.DictField(
        child=serializers.BooleanField(), help_text="Each E.164 number Sinch answered for: WhatsApp or not."
    )
    pending = serializers.ListField(
        child=serializers.CharField(),
        help_text=(
            "E.164 numbers whose answer comes later by callback (Conversation API bots): their contacts show "
            "capability 'pending' until it arrives."
        ),
    )


INVALID_INPUT = OpenApiResponse(
    ErrorSerializer,
    description="Invalid input (a body or a filter): `error.fields` names each field and its problems.",
)
SINCH_ERRORS: dict[int, Any] = {
    202: OpenApiResponse(ErrorSerializer, description="The request may have reached Sinch; no answer came."),
    400: OpenApiResponse(ErrorSerializer, description="Sinch refused the request, or the input does not validate."),
    502: OpenApiResponse(ErrorSerializer, description="Sinch refused the credentials (wrong token or region)."),
    503: OpenApiResponse(ErrorSerializer, description="Sinch unavailable or timed out; see Retry-After."),
}
#: Sinch 5xx, 429 and timeouts answer 503 with ``Retry-After`` (seconds).
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[503],
    required=True,
    description="Seconds to wait before trying again.",
)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (1 to 255 printable ASCII characters), per tenant, kept 48 hours: a repeat "
    "with the same key and body sends nothing and answers the first answer (header Idempotent-Replayed); "
    "the same key with another body answers 422; while the first is still sending, 409 with Retry-After.",
)


def numbers_responses(serializer: type[serializers.Serializer]) -> dict[int, Any]:
    """Opt-in/out and capability: the outcome for every status they answer with."""
    outcomes = {
        200: serializer,
        202: serializer,
        400: OpenApiResponse(
            NumbersErrorSerializer,
            description="Every number was rejected (`invalid_numbers`), Sinch refused the batch (the outcome with "
            "`error`), or the body does not validate (`invalid`).",
        ),
        502: serializer,
        503: serializer,
    }
    return with_standard_errors(outcomes, detail=True, body=True)


SEND_OUTCOMES: dict[int, Any] = {
    201: SendResultSerializer,
    202: SendResultSerializer,
    400: OpenApiResponse(
        SendErrorSerializer,
        description="No recipient was valid (`invalid_recipients`, `rejected` says why), Sinch refused the request "
        "(`sinch_bad_request`), a message over a documented limit (`invalid_message`: `error.field`, `error.limit`), "
        "or a body that does not validate (`invalid`).",
    ),
    409: OpenApiResponse(
        ErrorSerializer,
        description="Outside the 24-hour window (`outside_customer_care_window`: send a template or set "
        "`allow_outside_window`), a template send beyond the bot's messaging tier (`messaging_tier_exceeded`: "
        "`tier`, `used`, `requested`, `left`; nothing sent; or set `over_tier` to `defer`), or the "
        "Idempotency-Key's first request is still sending (Retry-After).",
    ),
    422: OpenApiResponse(ErrorSerializer, description="The Idempotency-Key was used for another request."),
    502: SendResultSerializer,
    503: SendResultSerializer,
}


def send_responses() -> dict[int, Any]:
    return with_standard_errors(SEND_OUTCOMES, detail=True, body=True)


def mark_read_responses(serializer: type[serializers.Serializer]) -> dict[int, Any]:
    return with_standard_errors({200: serializer, **SINCH_ERRORS}, detail=True, body=False)


NUMBERS_EXAMPLES = [
    OpenApiExample("Two numbers", value={"numbers": ["46732001122", "+46 73-200 11 33"]}, request_only=True),
]
SEND_EXAMPLES = [
    OpenApiExample("A text reply", value={"to": ["46732001122"], "text": "Thanks, we are on it."}, request_only=True),
    OpenApiExample(
        "A template",
        value={
            "to": ["46732001122"],
            "message": {
                "type": "template",
                "template_name": "order_shipped",
                "language": "en_US",
                "body_params": ["Anna", "#4711"],
            },
        },
        request_only=True,
    ),
]


def bot_filter(description: str = "Only this bot's (its id).") -> OpenApiParameter:
    return OpenApiParameter("bot", OpenApiTypes.INT, OpenApiParameter.QUERY, description=description)


def with_standard_errors(
    responses: dict[int, Any], *, detail: bool, body: bool, listing: bool = False
) -> dict[int, Any]:
    """``responses`` plus what any operation can answer (the declared ones win).

    401/403 without valid credentials; 404 for an object that is missing or another tenant's, or a bad
    cursor; 400 for a body or a filter that does not validate; 413/415 for a body too large or in another
    media type; 500 ``server_error`` for an unexpected crash (logged on the server, never described here).
    """
    auth = OpenApiResponse(ErrorSerializer, description="No valid credentials, or not allowed.")
    crash = OpenApiResponse(
        ErrorSerializer, description="An unexpected crash (code server_error), logged on the server."
    )
    standard: dict[int, Any] = {401: auth, 403: auth, 500: crash}
    if detail or listing:
        standard[404] = OpenApiResponse(
            ErrorSerializer, description="Not one of your tenants' objects, no such object, or a bad cursor."
        )
    if body or listing:
        standard[400] = INVALID_INPUT
    if body:
        standard[413] = OpenApiResponse(ErrorSerializer, description="A body over Django's size limit.")
        standard[415] = OpenApiResponse(ErrorSerializer, description="A body in an unsupported media type.")
    return {**standard, **responses}


class TenantScopedAutoSchema(AutoSchema):
    """drf-spectacular's schema plus the error answers every tenant-scoped operation can give.

    Views that declare their responses with ``extend_schema(responses=...)`` bypass this (drf-spectacular
    puts the decorator's schema first), so they wrap them in :func:`with_standard_errors` themselves.
    """

    def get_response_serializers(self) -> Any:
        declared = super().get_response_serializers()
        responses: dict[int, Any]
        if isinstance(declared, dict):
            responses = dict(declared)
        elif self.method == "DELETE":
            responses = {204: None}
        else:
            responses = {201 if getattr(self.view, "action", None) == "create" else 200: declared}
        return with_standard_errors(
            responses,
            detail="{" in self.path,
            body=self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None,
            listing=getattr(self.view, "action", None) == "list" and bool(getattr(self.view, "pagination_class", None)),
        )
