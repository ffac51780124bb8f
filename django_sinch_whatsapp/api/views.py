"""Tenant-scoped DRF views: bots, sending, messages with their history."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ParseError, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from .. import services
from ..conf import app_settings
from ..exceptions import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    MessageValidationError,
    MessagingTierExceeded,
    OutsideCustomerCareWindow,
    SinchAPIError,
)
from ..models import Bot, OutboundMessage, StatusEvent
from ..sensitive import mark_sensitive_post_parameters
from ..services import idempotency
from ..transports.errors import FeatureNotSupported
from . import send_answers
from .bot_actions import BotBlacklistActions, BotContactActions
from .errors import (
    error_body,
    exception_handler,
    sinch_error_response,
    tier_error_response,
    validation_error_response,
    window_error_response,
)
from .filters import OutboundMessageFilter
from .schema import IDEMPOTENCY_KEY, RETRY_AFTER, SEND_EXAMPLES, TenantScopedAutoSchema, send_responses
from .serializers import BotSerializer, OutboundMessageSerializer, SendSerializer
from .tenancy import tenant_ids_for_user

if TYPE_CHECKING:
    from rest_framework.permissions import _PermissionClass
    from rest_framework.schemas.inspectors import ViewInspector


TOKEN_AUTHENTICATION = "rest_framework.authentication.TokenAuthentication"


def _authentication_classes() -> list[Any]:
    """``API_AUTHENTICATION_CLASSES``; DRF's token authentication only where its app (its table) is installed."""
    token_table = apps.is_installed("rest_framework.authtoken")
    return [
        import_string(path)
        for path in app_settings.API_AUTHENTICATION_CLASSES
        if path != TOKEN_AUTHENTICATION or token_table
    ]


def api_authenticators() -> list[Any]:
    """The authenticators of every view of the API (the root and the docs' "Authorize" too)."""
    return [cls() for cls in _authentication_classes()]


class DepthSafeJSONParser(JSONParser):
    """DRF's JSON parser, with a body nested too deeply for Python's json module answered as a 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None


class BodyTooLarge(APIException):
    """Django's DATA_UPLOAD_MAX_MEMORY_SIZE, answered as a 413 in the API's error shape."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


class TenantScopedMixin:
    """Every queryset goes through here: another tenant's objects answer 404."""

    permission_classes: Sequence[_PermissionClass] = [IsAuthenticated]
    schema: ViewInspector | None = TenantScopedAutoSchema()

    def get_authenticators(self) -> list[Any]:
        return api_authenticators()

    def tenant_ids(self) -> list[Any]:
        if not hasattr(self, "_tenant_ids"):
            self._tenant_ids = tenant_ids_for_user(self.request.user)  # type: ignore[attr-defined]
        return self._tenant_ids

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        context["tenant_ids"] = self.tenant_ids()
        return context

    def get_parsers(self) -> list[Any]:
        # DRF's JSONParser lets a RecursionError (a body nested deeper than Python's limit) become a 500.
        parsers = super().get_parsers()  # type: ignore[misc]
        return [DepthSafeJSONParser() if type(parser) is JSONParser else parser for parser in parsers]

    def get_exception_handler(self) -> Any:
        return exception_handler

    def handle_exception(self, exc: Exception) -> Response:
        """Sinch's errors keep its ``message``/``details``; ours name the field and limit.

        Anything else is ``errors.exception_handler``'s: DRF's errors in the one shape, and a crash a
        500 ``server_error`` in it too (logged and signalled as Django does).
        """
        if isinstance(exc, SinchAPIError):
            return sinch_error_response(exc)
        if isinstance(exc, MessageValidationError):
            return validation_error_response(exc)
        if isinstance(exc, OutsideCustomerCareWindow):
            return window_error_response(exc)
        if isinstance(exc, MessagingTierExceeded):
            return tier_error_response(exc)
        if isinstance(exc, FeatureNotSupported):
            # The caller chose a feature the bot's transport lacks: their request is wrong, Sinch is not.
            body = error_body("feature_not_supported", str(exc), transport=exc.transport, feature=exc.feature)
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, RequestDataTooBig):
            exc = BodyTooLarge(str(exc))
        if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
            # Django's own limits on a form body: left alone they become Django's HTML 400 page.
            exc = ParseError(str(exc))
        return super().handle_exception(exc)  # type: ignore[misc]


def _messages_with_history() -> QuerySet[OutboundMessage]:
    return OutboundMessage.objects.select_related("bot").prefetch_related(
        Prefetch("status_events", queryset=StatusEvent.objects.order_by("received_at", "id"))
    )


class MessageCursorPagination(CursorPagination):
    """Stable pages over a table that grows while it is read."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = ("-created_at", "id")

    def decode_cursor(self, request: Request) -> Cursor | None:
        """DRF's cursor, its position (a timestamp: every ordering here starts with one) checked and in UTC.

        A tampered or truncated position would otherwise reach the query and answer 500: no timestamp
        (Django's ValidationError), or an offset PostgreSQL refuses (beyond +-15:59).
        """
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        position = str(cursor.position)  # text, whatever the stubs say
        try:
            moment = parse_datetime(position)
            if moment is None or (settings.USE_TZ and timezone.is_naive(moment)):
                raise ValueError(position)
            if timezone.is_aware(moment):
                moment = moment.astimezone(datetime.UTC)
        except (ValueError, OverflowError):
            raise NotFound(self.invalid_cursor_message) from None
        return cursor._replace(position=str(moment))  # type: ignore[arg-type]


class BotCursorPagination(MessageCursorPagination):
    """Bots in the order they were created, paged like every other list."""

    ordering = ("created_at", "id")


class BotViewSet(BotContactActions, BotBlacklistActions, TenantScopedMixin, viewsets.ModelViewSet):
    """Your tenants' bots: list, create, read, change and delete; their secrets are write-only.

    A bot of another tenant answers 404. One bot's answer carries its ``counters`` and its
    messaging-tier count (``messaged_24h``); lists leave those two out (``null``).
    """

    serializer_class = BotSerializer
    pagination_class = BotCursorPagination

    def get_queryset(self) -> QuerySet[Bot]:
        return Bot.objects.filter(tenant_id__in=self.tenant_ids()).select_related("callback_refusals").order_by("pk")

    # Create and update receive the bot's secrets (JSON or form-encoded): keep them out of error reports.
    @sensitive_variables()
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        mark_sensitive_post_parameters(request)
        return super().create(request, *args, **kwargs)

    @sensitive_variables()
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        mark_sensitive_post_parameters(request)
        return super().update(request, *args, **kwargs)

    @extend_schema(
        request=SendSerializer,
        responses=send_responses(),
        parameters=[RETRY_AFTER, IDEMPOTENCY_KEY],
        examples=SEND_EXAMPLES,
    )
    @action(detail=True, methods=["post"], serializer_class=SendSerializer)
    def send(self, request: Request, pk: Any = None) -> Response:
        """Send a text or any message object to one or more recipients from this bot.

        With an ``Idempotency-Key`` header (per tenant, kept 48 hours), a repeat of the same
        request sends nothing and answers the first answer again; the same key with another
        body is a 422; a repeat while the first is still sending waits, then answers 409.
        """
        bot = self.get_object()
        key = request.headers.get("Idempotency-Key")
        if key is not None:
            try:
                idempotency.validate_key(key)
            except ValueError as err:
                raise ValidationError({"Idempotency-Key": str(err)}) from None
        serializer = SendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        message = data.get("message")
        try:
            if message is None:
                from ..client import messages as builders

                message = builders.text(data["text"], preview_url=data["preview_url"])
            outcome = services.send_message(
                bot,
                data["to"],
                message,
                callback_url=data.get("callback_url"),
                allow_outside_window=data["allow_outside_window"],
                idempotency_key=key,
                over_tier=data["over_tier"],
            )
        except MessageValidationError as err:
            return validation_error_response(err)
        except OutsideCustomerCareWindow as err:
            return window_error_response(err)
        except IdempotencyKeyReused as err:
            body = error_body("idempotency_key_reused", str(err), fields={"Idempotency-Key": [str(err)]})
            return Response(body, status=422)
        except IdempotencyKeyInProgress as err:
            response = Response(error_body("idempotency_key_in_progress", str(err)), status=409)
            response["Retry-After"] = "1"
            return response
        return send_answers.answer(outcome)


class OutboundMessageViewSet(
    TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Messages of your tenants' bots, newest first; filter by bot, state, type, recipient, contact and date."""

    serializer_class = OutboundMessageSerializer
    pagination_class = MessageCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = OutboundMessageFilter

    def get_queryset(self) -> QuerySet[OutboundMessage]:
        return _messages_with_history().filter(bot__tenant_id__in=self.tenant_ids()).order_by("-created_at", "id")
