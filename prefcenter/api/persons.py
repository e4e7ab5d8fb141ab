"""Persons: list with filters, read by id or external id, upsert by external id, change.

Every change goes through ``crm.services.person_create`` / ``person_update`` with source
``api``, so it reaches Vibes through the outbox exactly as a change on the preference page
does, and custom field values are checked against their definitions by the same code.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from crm import services
from crm.choices import Source, SubscriptionState
from crm.models import Person, Subscription
from prefcenter.api.problems import QueryValidationError, query_values
from prefcenter.api.scopes import Scope
from prefcenter.api.serializers import (
    PersonFilterSerializer,
    PersonPageSerializer,
    PersonPatchSerializer,
    PersonSerializer,
    PersonWriteSerializer,
)
from prefcenter.api.views import ApiView, IdCursorPagination

READ_WRITE = {
    "GET": Scope.PERSONS_READ,
    "PUT": Scope.PERSONS_WRITE,
    "PATCH": Scope.PERSONS_WRITE,
}


def persons_with_subscriptions() -> QuerySet[Person]:
    return Person.objects.prefetch_related(
        Prefetch(
            "subscriptions",
            queryset=Subscription.objects.select_related("subscription_list").order_by(
                "subscription_list__order", "subscription_list__list_id"
            ),
        )
    )


def persons_filtered(filters: dict[str, Any]) -> QuerySet[Person]:
    """``state`` "unsubscribed" also matches persons who never had a row for the list."""
    queryset = persons_with_subscriptions()
    if "updated_since" in filters:
        queryset = queryset.filter(updated_at__gte=filters["updated_since"])
    list_id, state = filters.get("list"), filters.get("state")
    rows = Subscription.objects.filter(person=OuterRef("pk"))
    if list_id:
        rows = rows.filter(subscription_list__list_id=list_id)
    if state == SubscriptionState.UNSUBSCRIBED:
        return queryset.filter(~Exists(rows.exclude(state=SubscriptionState.UNSUBSCRIBED)))
    if state:
        rows = rows.filter(state=state)
    if list_id or state:
        queryset = queryset.filter(Exists(rows))
    return queryset


def _read(person: Person, *, status_code: int = status.HTTP_200_OK) -> Response:
    person = persons_with_subscriptions().get(pk=person.pk)
    return Response(PersonSerializer(person).data, status=status_code)


def _update(person: Person, data: dict[str, Any]) -> Response:
    services.person_update(person=person, source=Source.API, **data)
    return _read(person)


class PersonListView(ApiView):
    query_parameters = {"GET": (PersonFilterSerializer,)}
    required_scopes = {"GET": Scope.PERSONS_READ}

    @extend_schema(
        operation_id="persons_list",
        parameters=[PersonFilterSerializer],
        responses=PersonPageSerializer,
        tags=["persons"],
    )
    def get(self, request: Request) -> Response:
        filters = PersonFilterSerializer(data=query_values(request))
        if not filters.is_valid():
            raise QueryValidationError(filters.errors)
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(persons_filtered(filters.validated_data), request, self)
        return paginator.get_paginated_response(PersonSerializer(page, many=True).data)


class PersonDetailView(ApiView):
    required_scopes = READ_WRITE

    @extend_schema(operation_id="persons_read", responses=PersonSerializer, tags=["persons"])
    def get(self, request: Request, pk: int) -> Response:
        return _read(get_object_or_404(Person, pk=pk))

    @extend_schema(
        operation_id="persons_update",
        request=PersonPatchSerializer,
        responses=PersonSerializer,
        tags=["persons"],
    )
    def patch(self, request: Request, pk: int) -> Response:
        person = get_object_or_404(Person, pk=pk)
        data = PersonPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _update(person, data.validated_data)


EXTERNAL_ID = OpenApiParameter(
    "external_person_id",
    str,
    OpenApiParameter.PATH,
    description="The CRM's own id for the person (no slashes).",
)


class PersonByExternalIdView(ApiView):
    required_scopes = READ_WRITE

    @extend_schema(
        operation_id="persons_read_by_external_id",
        parameters=[EXTERNAL_ID],
        responses=PersonSerializer,
        tags=["persons"],
    )
    def get(self, request: Request, external_person_id: str) -> Response:
        return _read(get_object_or_404(Person, external_person_id=external_person_id))

    @extend_schema(
        operation_id="persons_upsert",
        parameters=[EXTERNAL_ID],
        request=PersonWriteSerializer,
        responses={200: PersonSerializer, 201: PersonSerializer},
        tags=["persons"],
        description="Create the person with this external id, or change the fields given "
        "(fields left out keep their value). 201 when created, 200 when it existed.",
    )
    def put(self, request: Request, external_person_id: str) -> Response:
        data = PersonWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = Person.objects.filter(external_person_id=external_person_id).first()
        if person is not None:
            return _update(person, data.validated_data)
        try:
            person = services.person_create(
                external_person_id=external_person_id, source=Source.API, **data.validated_data
            )
        except ValidationError as exc:
            existing = Person.objects.filter(external_person_id=external_person_id).first()
            if existing is None or "external_person_id" not in getattr(exc, "error_dict", {}):
                raise
            # Created by a concurrent request between our look and our write.
            return _update(existing, data.validated_data)
        return _read(person, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="persons_update_by_external_id",
        parameters=[EXTERNAL_ID],
        request=PersonPatchSerializer,
        responses=PersonSerializer,
        tags=["persons"],
    )
    def patch(self, request: Request, external_person_id: str) -> Response:
        person = get_object_or_404(Person, external_person_id=external_person_id)
        data = PersonPatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _update(person, data.validated_data)
