"""How persons, subscriptions, opt-in requests and consent events look in the API.

Output serializers only read; input serializers only check shapes and types. The rules
(custom field types, unique values, numbers) are the services', so the API and the pages
can never disagree about what is valid.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.choices import ConsentAction, OptInStatus, OptOutReason, Source, SubscriptionState
from crm.models import (
    EXTERNAL_PERSON_ID_MAX_LENGTH,
    LEDGER_FIELDS,
    ConsentEvent,
    CustomField,
    OptInRequest,
    Person,
    Subscription,
    SubscriptionList,
)

CUSTOM_FIELD_VALUE_SCHEMA = {
    "oneOf": [
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "array", "items": {"type": "string"}},
    ],
    "nullable": True,
    "description": "Text, number, date (YYYY-MM-DD), yes/no, an option key, or a list of "
    "option keys, as the custom field's definition says; null clears the value.",
}


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": CUSTOM_FIELD_VALUE_SCHEMA,
        "description": "Values by custom field key (see GET /api/v1/custom-fields/).",
    }
)
class CustomFieldValuesField(serializers.Field):
    def to_representation(self, value: Any) -> Any:
        return value

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise serializers.ValidationError("Give custom field values by key, as an object.")
        errors = {
            key: ["Give text, a number, true or false, a list of option keys, or null."]
            for key, value in data.items()
            if not _is_custom_field_value(value)
        }
        if errors:
            raise serializers.ValidationError(errors)
        return data


def _is_custom_field_value(value: Any) -> bool:
    if value is None or isinstance(value, str | int | float | bool):
        return True
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


class StrictIPAddressField(serializers.IPAddressField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """Text only: DRF's CharField would take 42 as "42", which the document says is wrong."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "nullable": True, "example": "+12015550123"})
class MdnField(serializers.Field):
    """A number out as E.164 text (or null)."""

    def to_representation(self, value: Any) -> str | None:
        return str(value) if value else None


class SubscriptionSerializer(serializers.ModelSerializer):
    list_id = serializers.CharField(source="subscription_list.list_id", read_only=True)
    list_name = serializers.CharField(source="subscription_list.name", read_only=True)
    state = serializers.ChoiceField(choices=SubscriptionState.choices, read_only=True)
    opt_out_reason = serializers.ChoiceField(
        choices=[("", ""), *list(OptOutReason.choices)], read_only=True
    )

    class Meta:
        model = Subscription
        fields = [
            "list_id",
            "list_name",
            "state",
            "opt_in_date",
            "opt_out_date",
            "opt_out_reason",
            "updated_at",
        ]
        read_only_fields = fields


class PersonSerializer(serializers.ModelSerializer):
    mdn = MdnField(
        read_only=True,
        help_text="Confirmed mobile number in E.164; it changes only when its owner confirms "
        "an opt-in.",
    )
    email = serializers.CharField(read_only=True, help_text="An email address, or empty.")
    custom_fields = CustomFieldValuesField(read_only=True)
    subscriptions = SubscriptionSerializer(many=True, read_only=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "external_person_id",
            "person_key",
            "mdn",
            "first_name",
            "last_name",
            "email",
            "custom_fields",
            "subscriptions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PersonWriteSerializer(serializers.Serializer):
    """The fields a client may set; fields left out keep their value."""

    first_name = StrictCharField(max_length=150, allow_blank=True, required=False)
    last_name = StrictCharField(max_length=150, allow_blank=True, required=False)
    email = StrictCharField(
        max_length=254,
        allow_blank=True,
        required=False,
        help_text="An email address; empty clears it.",
    )
    custom_fields = CustomFieldValuesField(
        required=False,
        help_text="Merged into the stored values: keys left out keep their value, null clears one.",
    )


class PersonPatchSerializer(PersonWriteSerializer):
    external_person_id = StrictCharField(max_length=EXTERNAL_PERSON_ID_MAX_LENGTH, required=False)


class PageParamsSerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False, help_text="The cursor from a previous page's next or previous link."
    )
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=1000, help_text="Rows per page (default 100)."
    )


class PersonPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last.")
    previous = serializers.URLField(allow_null=True)
    results = PersonSerializer(many=True)


class PersonFilterSerializer(PageParamsSerializer):
    updated_since = serializers.DateTimeField(
        required=False, help_text="Only persons changed at or after this time (ISO 8601)."
    )
    list = serializers.CharField(
        required=False, max_length=64, help_text="A Vibes list id: persons with that list."
    )
    state = serializers.ChoiceField(
        choices=SubscriptionState.choices,
        required=False,
        help_text="With `list`: the state on that list; alone: on any list (`unsubscribed`: "
        "on no list).",
    )


class OptInRequestSerializer(serializers.ModelSerializer):
    person_id = serializers.IntegerField(read_only=True)
    list_id = serializers.CharField(source="subscription_list.list_id", read_only=True)
    mdn = MdnField(read_only=True)
    status = serializers.ChoiceField(choices=OptInStatus.choices, read_only=True)

    class Meta:
        model = OptInRequest
        fields = [
            "id",
            "person_id",
            "list_id",
            "mdn",
            "status",
            "message",
            "error_code",
            "expire_date",
            "requested_at",
            "updated_at",
        ]
        read_only_fields = fields


CHANNELS = [
    ("web", "A web page or web checkout"),
    ("app", "A mobile app"),
    ("in_store", "A point of sale or kiosk in a store"),
    ("phone", "A call with an agent"),
    ("email", "An email"),
    ("other", "Another channel"),
]


class OptInCreateSerializer(serializers.Serializer):
    """What the law asks us to keep about how the subscriber asked to join."""

    list_id = StrictCharField(max_length=64, help_text="The Vibes list id to join.")
    mdn = StrictCharField(max_length=32, help_text="The number to text for the Y.")
    disclosure_text = StrictCharField(
        max_length=5000,
        help_text="The consent disclosure exactly as the subscriber saw it.",
    )
    channel = serializers.ChoiceField(choices=CHANNELS, help_text="Where it was shown.")
    ip_address = StrictIPAddressField(help_text="The subscriber's IP address.")
    user_agent = StrictCharField(
        max_length=2000, help_text="The subscriber's browser or app user agent."
    )


class LeaveSerializer(serializers.Serializer):
    ip_address = StrictIPAddressField(
        required=False, help_text="The subscriber's IP address, when they asked in person."
    )
    user_agent = StrictCharField(max_length=2000, required=False, allow_blank=True)


class ConsentEventSerializer(serializers.ModelSerializer):
    person_id = serializers.IntegerField(read_only=True)
    external_person_id = serializers.CharField(source="person.external_person_id", read_only=True)
    list_id = serializers.CharField(source="subscription_list.list_id", read_only=True)
    action = serializers.ChoiceField(choices=ConsentAction.choices, read_only=True)
    source = serializers.ChoiceField(choices=Source.choices, read_only=True)
    mdn = MdnField(read_only=True)
    opt_out_reason = serializers.ChoiceField(
        choices=[("", ""), *list(OptOutReason.choices)], read_only=True
    )

    class Meta:
        model = ConsentEvent
        fields = ["id", "person_id", "external_person_id", "list_id", *LEDGER_FIELDS]
        read_only_fields = fields


class ConsentEventPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last.")
    previous = serializers.URLField(allow_null=True)
    results = ConsentEventSerializer(many=True)


class ConsentFilterSerializer(serializers.Serializer):
    person = serializers.IntegerField(required=False, min_value=1, help_text="A person id.")
    external_person_id = serializers.CharField(required=False, max_length=128)
    list = serializers.CharField(required=False, max_length=64, help_text="A Vibes list id.")
    action = serializers.ChoiceField(choices=ConsentAction.choices, required=False)
    since = serializers.DateTimeField(required=False, help_text="occurred_at >= since")
    until = serializers.DateTimeField(required=False, help_text="occurred_at < until")


class SubscriptionListSerializer(serializers.ModelSerializer):
    can_join_by_api = serializers.SerializerMethodField()

    class Meta:
        model = SubscriptionList
        fields = ["list_id", "name", "description", "disclosure", "keyword", "can_join_by_api"]
        read_only_fields = fields

    def get_can_join_by_api(self, subscription_list: SubscriptionList) -> bool:
        return bool(subscription_list.acquisition_campaign_id)


class CustomFieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomField
        fields = ["key", "label", "field_type", "options", "required", "help_text"]
        read_only_fields = fields


class ConsentListParamsSerializer(PageParamsSerializer, ConsentFilterSerializer):
    """The ledger's filters and the page parameters."""


class PreferenceLinkSerializer(serializers.Serializer):
    url = serializers.URLField()
    expires_at = serializers.DateTimeField()
