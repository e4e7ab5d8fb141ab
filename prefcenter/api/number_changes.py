"""Changing a person's number, and removing it, as services other systems call.

The same ``crm.services`` calls as the preference page (docs/preferences.md, "Changing a
number"): the new number is only asked; the lists move to it when its owner replies Y,
and a No or a lapse leaves the old number as it was. Unlike the page, the API answers a
number held by another subscriber with status ``conflict``: its callers are the brand's
own systems, and staff see the same conflict in the admin.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from crm import services
from crm.choices import NumberChangeStatus, Source
from crm.models import NumberChange, Person, SubscriptionList
from prefcenter.api.scopes import Scope
from prefcenter.api.serializers import (
    CHANNELS,
    LeaveSerializer,
    MdnField,
    StrictCharField,
    StrictIPAddressField,
)
from prefcenter.api.subscriptions import ledger_reference
from prefcenter.api.views import IdempotentPostView


class NumberChangeCreateSerializer(serializers.Serializer):
    mdn = StrictCharField(max_length=32, help_text="The new number, texted for each list's Y.")
    list_ids = serializers.ListField(
        child=StrictCharField(max_length=64),
        min_length=1,
        max_length=50,
        help_text="Vibes list ids for the new number (usually those the person is on).",
    )
    disclosure_text = StrictCharField(
        max_length=5000,
        help_text="The consent disclosure exactly as the subscriber saw it, naming the button.",
    )
    channel = serializers.ChoiceField(choices=CHANNELS, help_text="Where it was shown.")
    ip_address = StrictIPAddressField(help_text="The subscriber's IP address.")
    user_agent = StrictCharField(max_length=2000, help_text="The subscriber's user agent.")


class NumberChangeSerializer(serializers.ModelSerializer):
    person_id = serializers.IntegerField(read_only=True)
    old_mdn = MdnField(read_only=True)
    new_mdn = MdnField(read_only=True)
    status = serializers.ChoiceField(choices=NumberChangeStatus.choices, read_only=True)

    class Meta:
        model = NumberChange
        fields = ["id", "person_id", "old_mdn", "new_mdn", "status", "created_at", "settled_at"]
        read_only_fields = fields


class NumberRemovedSerializer(serializers.Serializer):
    person_id = serializers.IntegerField(read_only=True)
    lists_left = serializers.ListField(child=serializers.CharField(), read_only=True)


class NumberChangeCreateView(IdempotentPostView):
    required_scopes = {"POST": Scope.SUBSCRIPTIONS_WRITE}

    @extend_schema(
        operation_id="number_changes_create",
        request=NumberChangeCreateSerializer,
        responses={202: NumberChangeSerializer},
        tags=["subscriptions"],
        description="Ask a new number to replace the person's confirmed one for the given "
        "lists. 202: Vibes texts the new number once per list; the lists move to it at its "
        "Y. Status conflict: another subscriber holds the number; nothing was sent.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk=pk)

    def create(self, request: Request, pk: int) -> Response:
        person = get_object_or_404(Person, pk=pk)
        data = NumberChangeCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        lists = [
            get_object_or_404(SubscriptionList, list_id=list_id) for list_id in values["list_ids"]
        ]
        change = services.number_change_request(
            person=person,
            mdn=values["mdn"],
            subscription_lists=lists,
            source=Source.API,
            consent=services.ConsentContext(
                ip_address=values["ip_address"],
                user_agent=values["user_agent"],
                disclosure_text=values["disclosure_text"],
                reference=ledger_reference(self, channel=values["channel"]),
            ),
        )
        return Response(NumberChangeSerializer(change).data, status=status.HTTP_202_ACCEPTED)


class NumberRemoveView(IdempotentPostView):
    required_scopes = {"POST": Scope.SUBSCRIPTIONS_WRITE}

    @extend_schema(
        operation_id="number_remove",
        request=LeaveSerializer,
        responses=NumberRemovedSerializer,
        tags=["subscriptions"],
        description="Remove the person's number: every list on it ends and Vibes removes "
        'the number ("mdn": null). 400 when the person has no number.',
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk=pk)

    def create(self, request: Request, pk: int) -> Response:
        person = get_object_or_404(Person, pk=pk)
        data = LeaveSerializer(data=request.data if request.data is not None else {})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        ended = services.number_remove(
            person=person,
            source=Source.API,
            consent=services.ConsentContext(
                ip_address=values.get("ip_address") or None,
                user_agent=values.get("user_agent", ""),
                reference=ledger_reference(self),
            ),
        )
        return Response({"person_id": person.pk, "lists_left": ended})
