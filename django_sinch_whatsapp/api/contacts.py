"""Contacts (opt-in, capability, the 24-hour window) and inbound messages (mark read)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .. import services
from ..models import Contact, InboundMessage
from .schema import RETRY_AFTER, bot_filter, mark_read_responses
from .serializers import ContactSerializer, InboundMessageSerializer
from .views import MessageCursorPagination, TenantScopedMixin, int_param, text_param


@extend_schema_view(
    list=extend_schema(
        parameters=[
            bot_filter(),
            OpenApiParameter("number", OpenApiTypes.STR, description="Only this E.164 number, e.g. +46732001122."),
        ]
    )
)
class ContactViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Contacts of your bots with opt-in, capability and the 24-hour window; ``?bot=`` and ``?number=`` filter."""

    serializer_class = ContactSerializer
    pagination_class = MessageCursorPagination

    def get_queryset(self) -> QuerySet[Contact]:
        queryset = Contact.objects.filter(bot__tenant_id__in=self.tenant_ids())
        params = self.request.query_params
        if params.get("bot"):
            queryset = queryset.filter(bot_id=int_param(params, "bot"))
        if params.get("number"):
            queryset = queryset.filter(number=text_param(params, "number"))
        return queryset


class InboundCursorPagination(MessageCursorPagination):
    ordering = ("-received_at", "id")


@extend_schema_view(list=extend_schema(parameters=[bot_filter()]))
class InboundMessageViewSet(
    TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Messages your bots received, newest first; ``POST .../{id}/mark-read/`` sends the read receipt."""

    serializer_class = InboundMessageSerializer
    pagination_class = InboundCursorPagination

    def get_queryset(self) -> QuerySet[InboundMessage]:
        queryset = InboundMessage.objects.filter(bot__tenant_id__in=self.tenant_ids()).select_related("bot")
        if self.request.query_params.get("bot"):
            queryset = queryset.filter(bot_id=int_param(self.request.query_params, "bot"))
        return queryset

    @extend_schema(request=None, responses=mark_read_responses(InboundMessageSerializer), parameters=[RETRY_AFTER])
    @action(detail=True, methods=["post"], url_path="mark-read")
    def mark_read(self, request: Request, pk: Any = None) -> Response:
        message = services.mark_read(self.get_object())
        return Response(InboundMessageSerializer(message).data)


__all__ = ["ContactViewSet", "InboundMessageViewSet"]
