"""Contacts (opt-in, capability, the 24-hour window) and inbound messages (mark read)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .. import services
from ..models import Contact, InboundMessage
from .filters import ContactFilter, InboundMessageFilter
from .schema import RETRY_AFTER, mark_read_responses
from .serializers import ContactSerializer, InboundMessageSerializer
from .views import MessageCursorPagination, TenantScopedMixin


class ContactViewSet(TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Contacts of your bots with opt-in, capability and the 24-hour window; filter by bot, number, opt-in."""

    serializer_class = ContactSerializer
    pagination_class = MessageCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ContactFilter

    def get_queryset(self) -> QuerySet[Contact]:
        return Contact.objects.filter(bot__tenant_id__in=self.tenant_ids())


class InboundCursorPagination(MessageCursorPagination):
    ordering = ("-received_at", "id")


class InboundMessageViewSet(
    TenantScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Messages your bots received, newest first; ``POST .../{id}/mark-read/`` sends the read receipt."""

    serializer_class = InboundMessageSerializer
    pagination_class = InboundCursorPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = InboundMessageFilter

    def get_queryset(self) -> QuerySet[InboundMessage]:
        return InboundMessage.objects.filter(bot__tenant_id__in=self.tenant_ids()).select_related("bot")

    @extend_schema(request=None, responses=mark_read_responses(InboundMessageSerializer), parameters=[RETRY_AFTER])
    @action(detail=True, methods=["post"], url_path="mark-read")
    def mark_read(self, request: Request, pk: Any = None) -> Response:
        """Tell Sinch the message was read (the sender sees two blue ticks) and set its ``read_at``."""
        message = services.mark_read(self.get_object())
        return Response(InboundMessageSerializer(message).data)


__all__ = ["ContactViewSet", "InboundMessageViewSet"]
