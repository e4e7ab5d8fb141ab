"""Signed preference-center links, minted for the brand's own emails and texts.

The same tokens as the staff's "copy link" action (``prefcenter.preferences.tokens``): they
expire after ``PREFCENTER_LINK_MAX_AGE`` and are all revoked when the person's link secret
is rotated.
"""

from __future__ import annotations

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from crm.models import Person
from prefcenter.api.scopes import Scope
from prefcenter.api.serializers import PreferenceLinkSerializer
from prefcenter.api.views import IdempotentPostView
from prefcenter.conf import setting
from prefcenter.preferences.tokens import preference_url


class PreferenceLinkView(IdempotentPostView):
    required_scopes = {"POST": Scope.PERSONS_WRITE}

    @extend_schema(
        operation_id="preference_links_create",
        request=None,
        responses={201: PreferenceLinkSerializer},
        tags=["persons"],
        description="A signed link to the person's preference center. Anyone holding it can "
        "change the person's preferences: send it only to the person.",
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk=pk)

    def create(self, request: Request, pk: int) -> Response:
        person = get_object_or_404(Person, pk=pk)
        expires_at = timezone.now() + datetime.timedelta(seconds=setting("PREFCENTER_LINK_MAX_AGE"))
        data = {"url": preference_url(person), "expires_at": expires_at}
        return Response(PreferenceLinkSerializer(data).data, status=status.HTTP_201_CREATED)
