"""The OpenAPI document at /api/schema/ (staff or any valid key) and the staff pages that
show it, Swagger UI and Redoc, served from the drf-spectacular-sidecar package.

The pages live under the site's strict content security policy (scripts and styles from
this site only, nothing inline), so they use templates of our own: no inline script or
style, and no web fonts from elsewhere (drf-spectacular's Redoc page loads Google Fonts).
"""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.utils.decorators import method_decorator
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.authentication import SessionAuthentication

from prefcenter.api.auth import ApiKeyAuthentication, IsStaffOrApiClient

# The site's policy, except that these two staff pages may use inline styles (Redoc styles
# itself with generated <style> elements) and workers (Redoc's search). Every source is
# still this site: a script or font from anywhere else is refused by the browser.
DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


class DocsPageMixin:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response.headers["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response


class SchemaView(SpectacularAPIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [IsStaffOrApiClient]


@method_decorator(staff_member_required, name="dispatch")
class SwaggerView(DocsPageMixin, SpectacularSwaggerSplitView):
    """The page, and with ``?script`` its start-up script as a separate file."""

    template_name = "api/swagger_ui.html"
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsStaffOrApiClient]


@method_decorator(staff_member_required, name="dispatch")
class RedocView(DocsPageMixin, SpectacularRedocView):
    template_name = "api/redoc.html"
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsStaffOrApiClient]
