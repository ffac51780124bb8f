"""Campaigns over the API: upload a CSV (multipart) to validate and send it; GET shows the progress."""

from __future__ import annotations

import io
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from ..exceptions import MessageValidationError, MessagingTierExceeded
from ..models import Bot, Campaign
from ..services import campaigns
from .errors import tier_error_response, validation_error_response
from .schema import with_standard_errors
from .views import TenantScopedMixin


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign with its counts (sent, failed, unknown and pending read from its messages)."""

    progress = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "bot",
            "name",
            "template_name",
            "language",
            "number_column",
            "param_columns",
            "lines_read",
            "accepted",
            "rejected",
            "imported_at",
            "finished_at",
            "created_at",
            "progress",
        ]
        read_only_fields = fields

    def get_progress(self, campaign: Campaign) -> dict[str, Any]:
        return campaigns.summarize(campaign).as_dict()


class CampaignUploadSerializer(serializers.Serializer):
    bot = serializers.IntegerField(help_text="The sending bot's id (one of your tenants').")
    file = serializers.FileField(help_text="The CSV; its first line names the columns.")
    template_name = serializers.CharField(max_length=512)
    language = serializers.CharField(max_length=20, default="en")
    number_column = serializers.CharField(max_length=200, default="number")
    param_columns = serializers.ListField(child=serializers.CharField(max_length=200), default=list)
    name = serializers.CharField(max_length=200, default="", allow_blank=True)
    send = serializers.BooleanField(default=True, help_text="False: validate and store the rows only.")
    over_tier = serializers.ChoiceField(
        choices=["refuse", "defer"],
        default="refuse",
        help_text="Numbers beyond the bot's messaging tier: refuse before sending any (409; the rows stay stored), "
        "or send what fits now and schedule the rest.",
    )


class CampaignViewSet(
    TenantScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Campaigns of your tenants' bots; POST a CSV (multipart) to run one, GET one for its progress."""

    serializer_class = CampaignSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Campaign]:
        return Campaign.objects.filter(bot__tenant_id__in=self.tenant_ids()).select_related("bot").order_by("-pk")

    @extend_schema(
        request={"multipart/form-data": CampaignUploadSerializer},
        responses=with_standard_errors({201: CampaignSerializer}, detail=False, body=True),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = CampaignUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        bot = Bot.objects.filter(pk=data["bot"], tenant_id__in=self.tenant_ids()).first()
        if bot is None:
            raise serializers.ValidationError({"bot": "no such bot among your tenants' bots"})
        campaign = None
        try:
            campaign = campaigns.create_campaign(
                bot,
                template_name=data["template_name"],
                language=data["language"],
                number_column=data["number_column"],
                param_columns=data["param_columns"],
                name=data["name"] or data["file"].name or "",
            )
            # Streamed from Django's upload (a temporary file when large), a row at a time.
            stream = io.TextIOWrapper(data["file"].file, encoding="utf-8-sig", newline="")
            campaigns.run_campaign(campaign, stream, send=data["send"], over_tier=data["over_tier"])
        except MessageValidationError as err:
            if campaign is not None and campaign.lines_read == 0:
                campaign.delete()  # refused before any row (e.g. a column missing from the header)
            return validation_error_response(err)
        except UnicodeDecodeError as err:
            raise serializers.ValidationError({"file": f"is not UTF-8 text: {err}"}) from None
        except MessagingTierExceeded as err:
            return tier_error_response(err, campaign=campaign.pk if campaign is not None else None)
        campaign.refresh_from_db()
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)


__all__ = ["CampaignSerializer", "CampaignViewSet"]
