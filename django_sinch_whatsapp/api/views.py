"""Tenant-scoped DRF views: bots, sending, messages with their history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, QuerySet
from django.utils.module_loading import import_string
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from .. import services
from ..conf import app_settings
from ..exceptions import MessageValidationError, OutsideCustomerCareWindow, SinchAPIError
from ..models import Bot, OutboundMessage, StatusEvent
from .bot_actions import BotContactActions
from .errors import sinch_error_response, validation_error_response, window_error_response
from .serializers import BotSerializer, OutboundMessageSerializer, SendSerializer
from .tenancy import tenant_ids_for_user

if TYPE_CHECKING:
    from rest_framework.permissions import _PermissionClass


def _authentication_classes() -> list[Any]:
    return [import_string(path) for path in app_settings.API_AUTHENTICATION_CLASSES]


class TenantScopedMixin:
    """Every queryset goes through here: another tenant's objects answer 404."""

    permission_classes: Sequence[_PermissionClass] = [IsAuthenticated]

    def get_authenticators(self) -> list[Any]:
        return [cls() for cls in _authentication_classes()]

    def tenant_ids(self) -> list[Any]:
        if not hasattr(self, "_tenant_ids"):
            self._tenant_ids = tenant_ids_for_user(self.request.user)  # type: ignore[attr-defined]
        return self._tenant_ids

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        context["tenant_ids"] = self.tenant_ids()
        return context

    def handle_exception(self, exc: Exception) -> Response:
        """Sinch's errors keep its ``message``/``details``; ours name the field and limit. Never a 500."""
        if isinstance(exc, SinchAPIError):
            return sinch_error_response(exc)
        if isinstance(exc, MessageValidationError):
            return validation_error_response(exc)
        if isinstance(exc, OutsideCustomerCareWindow):
            return window_error_response(exc)
        return super().handle_exception(exc)  # type: ignore[misc]


def int_param(params: Any, name: str) -> int:
    """A whole-number query parameter, or a 400 naming it."""
    try:
        return int(params[name])
    except (TypeError, ValueError):
        raise ValidationError({name: "must be a whole number"}) from None


def _messages_with_history() -> QuerySet[OutboundMessage]:
    return OutboundMessage.objects.select_related("bot").prefetch_related(
        Prefetch("status_events", queryset=StatusEvent.objects.order_by("received_at", "id"))
    )


class BotViewSet(BotContactActions, TenantScopedMixin, viewsets.ModelViewSet):
    serializer_class = BotSerializer

    def get_queryset(self) -> QuerySet[Bot]:
        return Bot.objects.filter(tenant_id__in=self.tenant_ids()).order_by("pk")

    @extend_schema(request=SendSerializer, responses={201: OutboundMessageSerializer(many=True)})
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk: Any = None) -> Response:
        """Send a text or any message object to one or more recipients from this bot."""
        bot = self.get_object()
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
            )
        except MessageValidationError as err:
            return validation_error_response(err)
        except OutsideCustomerCareWindow as err:
            return window_error_response(err)
        rows = list(_messages_with_history().filter(pk__in=[m.pk for m in outcome.messages]).order_by("recipient"))
        body = {
            "messages": OutboundMessageSerializer(rows, many=True).data,
            "rejected": [{"to": r.raw, "reason": r.reason} for r in outcome.rejected],
        }
        if outcome.errors:
            return sinch_error_response(outcome.errors[0], body)
        if not rows:
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(body, status=status.HTTP_201_CREATED)


class MessageCursorPagination(CursorPagination):
    """Stable pages over a table that grows while it is read."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = ("-created_at", "id")


class OutboundMessageViewSet(
    TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Messages of your tenants' bots, newest first; ``?state=`` and ``?bot=`` filter."""

    serializer_class = OutboundMessageSerializer
    pagination_class = MessageCursorPagination

    def get_queryset(self) -> QuerySet[OutboundMessage]:
        queryset = _messages_with_history().filter(bot__tenant_id__in=self.tenant_ids())
        params = self.request.query_params
        if params.get("state"):
            queryset = queryset.filter(state=params["state"])
        if params.get("bot"):
            queryset = queryset.filter(bot_id=int_param(params, "bot"))
        return queryset.order_by("-created_at", "id")
