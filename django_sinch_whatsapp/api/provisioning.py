"""Media providers, stickerpacks and the blacklist of your tenants' bots.

Media providers and stickerpacks are mirrored rows (``/media-providers/``, ``/stickerpacks/``): listed
from the database, created and deleted at Sinch first, then in the mirror. The blacklist has no mirror:
``/bots/{id}/blacklist/`` reads Sinch's list, and adds (``POST``) or removes (``DELETE``) numbers there.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.views.decorators.debug import sensitive_variables
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from .. import services
from ..models import Bot, MediaProvider, Sticker, Stickerpack
from ..sensitive import mark_sensitive_post_parameters
from .filters import id_filter
from .schema import RETRY_AFTER, SINCH_ERRORS, with_standard_errors
from .serializers import form_to_json
from .views import MessageCursorPagination, TenantScopedMixin


class TenantBotField(serializers.PrimaryKeyRelatedField):
    """A bot id among the caller's tenants' bots: another tenant's answers 400 "does not exist"."""

    def get_queryset(self) -> QuerySet[Bot]:
        return Bot.objects.filter(tenant_id__in=self.context.get("tenant_ids", []))


class MediaProviderSerializer(serializers.ModelSerializer):
    """The password or bearer token is write-only and never stored here (Sinch keeps it)."""

    bot = TenantBotField()
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    bearer = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    username = serializers.CharField(required=False, max_length=200)

    class Meta:
        model = MediaProvider
        fields = ["id", "bot", "name", "kind", "username", "password", "bearer", "created_at", "synced_at"]
        read_only_fields = ["kind", "created_at", "synced_at"]
        # The (bot, name) constraint is not a refusal here: Sinch overwrites a provider of the same name.
        validators: list[Any] = []

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(form_to_json(data))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        basic = "username" in attrs or "password" in attrs
        if "bearer" in attrs and basic:
            raise serializers.ValidationError({"bearer": ["Give either bearer, or username and password."]})
        if "bearer" not in attrs and not ("username" in attrs and "password" in attrs):
            raise serializers.ValidationError({"password": ["Give username and password (Basic), or bearer."]})
        return attrs


class StickerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sticker
        fields = ["id", "index", "sinch_id", "url", "emojis"]
        read_only_fields = fields


class StickerpackSerializer(serializers.ModelSerializer):
    bot = TenantBotField()
    stickers = StickerSerializer(many=True, read_only=True)

    class Meta:
        model = Stickerpack
        fields = [
            "id",
            "bot",
            "sinch_id",
            "namespace",
            "name",
            "publisher",
            "ios_app_store_link",
            "android_app_store_link",
            "stickers",
            "created_at",
            "synced_at",
        ]
        read_only_fields = ["sinch_id", "namespace", "stickers", "created_at", "synced_at"]

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(form_to_json(data))


class BotScopedFilter(django_filters.FilterSet):
    bot = id_filter("bot_id", "Only this bot's (its id).")


class MediaProviderFilter(BotScopedFilter):
    class Meta:
        model = MediaProvider
        fields: list[str] = []


class StickerpackFilter(BotScopedFilter):
    class Meta:
        model = Stickerpack
        fields: list[str] = []


class CreatedPagination(MessageCursorPagination):
    ordering = ("-created_at", "id")


def sinch_backed(serializer: type[serializers.Serializer]) -> Any:
    """Create and delete call Sinch first: their answers include Sinch's errors."""
    return extend_schema_view(
        create=extend_schema(
            responses=with_standard_errors({201: serializer, **SINCH_ERRORS}, detail=False, body=True),
            parameters=[RETRY_AFTER],
        ),
        destroy=extend_schema(
            responses=with_standard_errors({204: None, **SINCH_ERRORS}, detail=True, body=False),
            parameters=[RETRY_AFTER],
        ),
    )


@sinch_backed(MediaProviderSerializer)
class MediaProviderViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Media providers (whatsapp-media-provider.md): how Sinch downloads media from a protected host.

    Creating one with a name already used overwrites it at Sinch; deleting removes it at Sinch first.
    """

    serializer_class = MediaProviderSerializer
    pagination_class = CreatedPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = MediaProviderFilter

    def get_queryset(self) -> QuerySet[MediaProvider]:
        return MediaProvider.objects.filter(bot__tenant_id__in=self.tenant_ids()).select_related("bot")

    @sensitive_variables()
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        mark_sensitive_post_parameters(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        provider = services.add_media_provider(
            data["bot"],
            data["name"],
            username=data.get("username"),
            password=data.get("password"),
            bearer=data.get("bearer"),
        )
        return Response(self.get_serializer(provider).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: MediaProvider) -> None:
        services.delete_media_provider(instance.bot, instance.name)


@sinch_backed(StickerpackSerializer)
class StickerpackViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Stickerpacks (whatsapp-stickerpack-management.md) with their stickers; only third-party packs change."""

    serializer_class = StickerpackSerializer
    pagination_class = CreatedPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = StickerpackFilter

    def get_queryset(self) -> QuerySet[Stickerpack]:
        stickers = Prefetch("stickers", queryset=Sticker.objects.order_by("index"))
        return (
            Stickerpack.objects.filter(bot__tenant_id__in=self.tenant_ids())
            .select_related("bot")
            .prefetch_related(stickers)
        )

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.create_stickerpack(
            data["bot"],
            publisher=data["publisher"],
            name=data["name"],
            ios_app_store_link=data.get("ios_app_store_link", ""),
            android_app_store_link=data.get("android_app_store_link", ""),
        )

    def perform_destroy(self, instance: Stickerpack) -> None:
        services.delete_stickerpack(instance)
