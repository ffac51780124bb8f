from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..fields import validate_header_secret
from ..models import (
    Bot,
    CallbackRefusalStats,
    Contact,
    InboundMessage,
    OutboundMessage,
    StatusEvent,
    validate_base_url_override,
)


class CallbackRefusalsSerializer(serializers.Serializer):
    """Refused callbacks of a bot (bad signature, too large, not JSON...): counts, never bodies."""

    count = serializers.IntegerField(read_only=True)
    first_at = serializers.DateTimeField(read_only=True)
    last_at = serializers.DateTimeField(read_only=True)
    last_reason = serializers.CharField(read_only=True)
    last_remote_addr = serializers.IPAddressField(read_only=True, allow_null=True)


class BotSerializer(serializers.ModelSerializer):
    """Secrets are write-only: accepted on create/update, never returned."""

    bearer_token = serializers.CharField(
        write_only=True, required=False, trim_whitespace=True, validators=[validate_header_secret]
    )
    key_secret = serializers.CharField(
        write_only=True, required=False, trim_whitespace=True, validators=[validate_header_secret]
    )
    callback_key = serializers.CharField(write_only=True, required=False, allow_blank=True)
    previous_callback_key = serializers.CharField(write_only=True, required=False, allow_blank=True)
    has_callback_key = serializers.SerializerMethodField()
    callback_path = serializers.CharField(read_only=True)
    callback_url = serializers.CharField(read_only=True)
    refused_callbacks = serializers.SerializerMethodField()
    messaged_24h = serializers.SerializerMethodField()
    counters = serializers.SerializerMethodField()

    class Meta:
        model = Bot
        fields = [
            "id",
            "tenant",
            "name",
            "transport",
            "sinch_bot_id",
            "region",
            "project_id",
            "app_id",
            "key_id",
            "key_secret",
            "conversation_region",
            "default_region",
            "base_url_override",
            "is_active",
            "bearer_token",
            "callback_key",
            "previous_callback_key",
            "has_callback_key",
            "callback_path",
            "callback_url",
            "refused_callbacks",
            "rate_limit",
            "rate_burst",
            "messaging_tier",
            "messaged_24h",
            "counters",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def _single(self) -> bool:
        # Aggregates per bot: shown on one bot, not in lists (a list stays a constant number of queries).
        return not isinstance(self.parent, serializers.ListSerializer)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_messaged_24h(self, obj: Bot) -> int | None:
        """Unique template recipients in the rolling 24 hours (the messaging tier's count); None in lists."""
        from ..services.tiers import unique_recipients_24h

        return unique_recipients_24h(obj) if self._single() else None

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_counters(self, obj: Bot) -> dict[str, Any] | None:
        """Sent, delivered, read, failed, refused callbacks, 429s, current rate; None in lists."""
        from ..observability import bot_counters

        return bot_counters(obj) if self._single() else None

    def get_has_callback_key(self, obj: Bot) -> bool:
        return bool(obj.callback_key)

    @extend_schema_field(CallbackRefusalsSerializer(allow_null=True))
    def get_refused_callbacks(self, obj: Bot) -> dict[str, Any] | None:
        try:
            return dict(CallbackRefusalsSerializer(obj.callback_refusals).data)
        except CallbackRefusalStats.DoesNotExist:
            return None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance is not None and not isinstance(self.instance, list):
            # On update the token may be left out: the stored one is kept.
            self.fields["bearer_token"].required = False

    def validate_base_url_override(self, value: str) -> str:
        try:
            validate_base_url_override(value)
        except DjangoValidationError as err:
            raise serializers.ValidationError(err.message_dict["base_url_override"]) from err
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        bot = self.instance
        # Each transport's credentials (a field error naming each missing one); stored secrets count on update.
        missing = (bot if isinstance(bot, Bot) else Bot()).missing_credentials(attrs)
        if missing:
            raise serializers.ValidationError(missing)
        if not isinstance(bot, Bot):
            return attrs
        # The transport's write-only secret (and the signing key) must not follow the bot to another tenant
        # or host by itself: whoever moves it must hold them.
        errors: dict[str, str] = {}
        again = bot.secret_to_type_again(attrs)
        if again is not None and not attrs.get(again[0]):
            errors[again[0]] = again[1]
        tenant = attrs.get("tenant")
        if bot.moves_tenant(getattr(tenant, "pk", None)) and bot.callback_key and not attrs.get("callback_key"):
            errors["callback_key"] = "Type the signing key again to move the bot to another tenant."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def validate_tenant(self, tenant: Any) -> Any:
        allowed = self.context.get("tenant_ids", [])
        if tenant.pk not in allowed:
            raise serializers.ValidationError("Not one of your tenants.")
        return tenant


class StatusEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatusEvent
        fields = ["state", "status", "details", "occurred_at", "received_at"]


class SinchErrorField(serializers.Serializer):
    status_code = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()
    details = serializers.CharField()
    hint = serializers.CharField()


class OutboundMessageSerializer(serializers.ModelSerializer):
    error = SinchErrorField(read_only=True, allow_null=True)
    history = StatusEventSerializer(source="status_events", many=True, read_only=True)

    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "bot",
            "recipient",
            "message_type",
            "payload",
            "batch_id",
            "sinch_message_id",
            "state",
            "sinch_status",
            "state_details",
            "error",
            "created_at",
            "dispatched_at",
            "state_changed_at",
            "history",
        ]
        read_only_fields = fields


def form_to_json(data: Any, *, lists: tuple[str, ...] = (), objects: tuple[str, ...] = ()) -> Any:
    """A form-encoded or multipart body (a QueryDict) as the JSON body it stands for.

    Each field is its one value; the ``lists`` fields take every value given (``to=1&to=2``) and split
    commas (``to=1,2``); the ``objects`` fields are JSON text. Anything else is returned as it is.
    """
    if not hasattr(data, "getlist"):
        return data
    converted: dict[str, Any] = {}
    for key in data:
        if key in lists:
            converted[key] = [part.strip() for value in data.getlist(key) for part in str(value).split(",")]
        elif key in objects:
            text = data.get(key)
            if text in ("", None):
                continue
            try:
                converted[key] = json.loads(text)
            except (TypeError, ValueError) as err:
                raise serializers.ValidationError({key: [f"Not valid JSON: {err}"]}) from None
        else:
            converted[key] = data.get(key)
    return converted


class SendSerializer(serializers.Serializer):
    """Either ``text`` (a text message) or ``message`` (any Sinch message object).

    JSON, form-encoded or multipart: in a form, ``to`` is repeated or comma-separated and ``message``
    is JSON text.
    """

    to = serializers.ListField(
        child=serializers.CharField(max_length=64),
        min_length=1,
        max_length=10_000,
        help_text="Numbers (any format; national ones in the bot's default region), 1 to 10,000.",
        style={"base_template": "input.html", "placeholder": "46732001122, 46732001133"},
    )
    text = serializers.CharField(
        required=False, trim_whitespace=False, style={"base_template": "textarea.html"}, help_text="A text message."
    )
    preview_url = serializers.BooleanField(required=False, default=False)
    message = serializers.DictField(
        required=False,
        help_text='Any Sinch message object, e.g. {"type": "template", ...}; in a form, as JSON text.',
        style={"base_template": "textarea.html"},
    )
    callback_url = serializers.URLField(required=False)
    allow_outside_window = serializers.BooleanField(
        required=False, default=False, help_text="Send a session message even outside the 24-hour window."
    )
    over_tier = serializers.ChoiceField(
        choices=["refuse", "defer"],
        default="refuse",
        help_text="A template send beyond the bot's messaging tier: refuse it whole (409, nothing sent), "
        "or send what fits now and schedule the rest (deferred rows, `not_before`).",
    )

    def to_internal_value(self, data: Any) -> Any:
        data = form_to_json(data, lists=("to",), objects=("message",))
        if isinstance(data, dict) and isinstance(data.get("to"), str):
            data = {**data, "to": [data["to"]]}
        return super().to_internal_value(data)

    def validate_message(self, message: dict[str, Any]) -> dict[str, Any]:
        # The message is stored as JSON: PostgreSQL's jsonb refuses \u0000 (a 500 otherwise).
        if _contains_nul(message):
            raise serializers.ValidationError("Null characters are not allowed.")
        return message

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("text" in attrs) == ("message" in attrs):
            raise serializers.ValidationError("Give exactly one of 'text' and 'message'.")
        return attrs


def _contains_nul(value: Any) -> bool:
    """Whether a NUL character is in any string or key of a JSON value (without recursion: any depth)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class ContactSerializer(serializers.ModelSerializer):
    window_ends_at = serializers.DateTimeField(read_only=True, allow_null=True)
    window_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "bot",
            "number",
            "profile_name",
            "opt_in_state",
            "opt_in_changed_at",
            "opt_in_source",
            "capability",
            "capability_checked_at",
            "capability_requested_at",
            "last_inbound_at",
            "window_ends_at",
            "window_open",
        ]
        read_only_fields = fields


class NumbersSerializer(serializers.Serializer):
    """Any number of numbers: sent to Sinch 20 per request."""

    numbers = serializers.ListField(
        child=serializers.CharField(max_length=64),
        min_length=1,
        max_length=10_000,
        help_text="Numbers (any format); in a form, repeated or comma-separated.",
        style={"base_template": "input.html", "placeholder": "46732001122, 46732001133"},
    )

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(form_to_json(data, lists=("numbers",)))


class InboundMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundMessage
        fields = [
            "id",
            "bot",
            "contact",
            "sinch_message_id",
            "from_number",
            "from_e164",
            "message_type",
            "text",
            "content",
            "replying_to_message_id",
            "forwarded",
            "frequently_forwarded",
            "referral",
            "sent_at",
            "received_at",
            "read_at",
            "media_file",
            "media_error",
        ]
        read_only_fields = fields
