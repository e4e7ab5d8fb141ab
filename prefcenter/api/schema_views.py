"""The OpenAPI document at /api/schema/ (staff or any valid key) and the staff pages that
show it, Swagger UI and Redoc, served from the drf-spectacular-sidecar package."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.utils.decorators import method_decorator
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)
from rest_framework.authentication import SessionAuthentication

from prefcenter.api.auth import ApiKeyAuthentication, IsStaffOrApiClient


class SchemaView(SpectacularAPIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsStaffOrApiClient]


@method_decorator(staff_member_required, name="dispatch")
class SwaggerView(SpectacularSwaggerView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsStaffOrApiClient]


@method_decorator(staff_member_required, name="dispatch")
class RedocView(SpectacularRedocView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsStaffOrApiClient]
