"""Joining and leaving lists.

Joining is only ever a request: ``crm.services.opt_in_request`` asks Vibes to text the
number, and the number is subscribed when its owner replies Y. The caller must say what the
subscriber was shown, where, and from which address and user agent; all of it goes into the
consent ledger with the calling client as its reference.
"""

from __future__ import annotations

import uuid

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from crm import services
from crm.choices import OptInStatus, OptOutReason, Source
from crm.models import OptInRequest, Person, Subscription, SubscriptionList
from prefcenter.api.problems import Conflict
from prefcenter.api.scopes import Scope
from prefcenter.api.serializers import (
    LeaveSerializer,
    OptInCreateSerializer,
    OptInRequestSerializer,
    SubscriptionSerializer,
)
from prefcenter.api.views import ApiView, IdempotentPostView


def ledger_reference(view: ApiView, *, channel: str = "") -> str:
    """``api-client:<id>`` plus the channel and one id per request, for the ledger."""
    parts = [view.client.reference]
    if channel:
        parts.append(f"channel:{channel}")
    parts.append(f"request:{uuid.uuid4().hex}")
    return " ".join(parts)


class AlreadySubscribed(Conflict):
    problem_kind = "already-subscribed"
    default_detail = "This number is already subscribed to this list."


class OptInRequestCreateView(IdempotentPostView):
    required_scopes = {"POST": Scope.SUBSCRIPTIONS_WRITE}

    @extend_schema(
        operation_id="opt_in_requests_create",
        request=OptInCreateSerializer,
        responses={201: OptInRequestSerializer, 200: OptInRequestSerializer},
        tags=["subscriptions"],
        description="Ask Vibes to text the number; it joins the list when its owner replies "
        "Y. 201 with a new request, 200 with the request already waiting for this number.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk=pk)

    def create(self, request: Request, pk: int) -> Response:
        person = get_object_or_404(Person, pk=pk)
        data = OptInCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        subscription_list = get_object_or_404(SubscriptionList, list_id=values["list_id"])
        consent = services.ConsentContext(
            ip_address=values["ip_address"],
            user_agent=values["user_agent"],
            disclosure_text=values["disclosure_text"],
            reference=ledger_reference(self, channel=values["channel"]),
        )
        open_before = set(
            OptInRequest.objects.filter(
                person=person,
                subscription_list=subscription_list,
                status__in=[OptInStatus.REQUESTED, OptInStatus.PENDING],
            ).values_list("pk", flat=True)
        )
        requests = services.opt_in_request(
            person=person,
            mdn=values["mdn"],
            subscription_lists=[subscription_list],
            source=Source.API,
            consent=consent,
        )
        if not requests:
            raise AlreadySubscribed()
        [opt_in] = requests
        created = opt_in.pk not in open_before
        location = reverse("api:opt-in-request", kwargs={"pk": opt_in.pk})
        return Response(
            OptInRequestSerializer(opt_in).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers={"Location": location},
        )


class OptInRequestDetailView(ApiView):
    required_scopes = {"GET": Scope.PERSONS_READ}

    @extend_schema(
        operation_id="opt_in_requests_read",
        responses=OptInRequestSerializer,
        tags=["subscriptions"],
    )
    def get(self, request: Request, pk: int) -> Response:
        opt_in = get_object_or_404(OptInRequest.objects.select_related("subscription_list"), pk=pk)
        return Response(OptInRequestSerializer(opt_in).data)


class SubscriptionLeaveView(IdempotentPostView):
    required_scopes = {"POST": Scope.SUBSCRIPTIONS_WRITE}

    @extend_schema(
        operation_id="subscriptions_leave",
        request=LeaveSerializer,
        responses=SubscriptionSerializer,
        tags=["subscriptions"],
        description="The person leaves the list (or withdraws a pending opt-in to it). "
        "Leaving a list the person is not on changes nothing and answers 200.",
    )
    def post(self, request: Request, pk: int, list_id: str) -> Response:
        return super().post(request, pk=pk, list_id=list_id)

    def create(self, request: Request, pk: int, list_id: str) -> Response:
        person = get_object_or_404(Person, pk=pk)
        subscription_list = get_object_or_404(SubscriptionList, list_id=list_id)
        data = LeaveSerializer(data=request.data if request.data is not None else {})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        consent = services.ConsentContext(
            ip_address=values.get("ip_address") or None,
            user_agent=values.get("user_agent", ""),
            reference=ledger_reference(self),
        )
        change = services.subscription_leave(
            person=person,
            subscription_list=subscription_list,
            source=Source.API,
            consent=consent,
            opt_out_reason=OptOutReason.API_OPT_OUT,
        )
        subscription = Subscription.objects.select_related("subscription_list").get(
            pk=change.subscription.pk
        )
        return Response(SubscriptionSerializer(subscription).data)
