"""Staff pages: the access requests, a person's export and a person's consent evidence.

The person's change page links to both (templates/admin/crm/person/change_form.html); the
pages live here, under this app's admin, so that the CRM's admin does not import them.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from crm.models import Person
from prefcenter.access.evidence import consent_evidence
from prefcenter.access.models import AccessRequest, AccessRequestChannel
from prefcenter.access.pdf import html_to_pdf, pdf_unavailable_reason
from prefcenter.access.registry import SECTIONS
from prefcenter.access.responses import export_response
from prefcenter.access.services import access_request_receive

EXPORT_PERMISSION = "access.export_personal_data"
EVIDENCE_PERMISSION = "crm.view_consentevent"


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    list_display = ("public_id", "person", "channel", "received_at", "completed_at", "downloads")
    list_filter = ("channel", "received_at")
    list_select_related = ("person",)
    readonly_fields = (
        "public_id",
        "person",
        "channel",
        "requested_by",
        "received_at",
        "completed_at",
        "downloads",
    )
    search_fields = ("=public_id", "=person__external_person_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "person/<int:person_id>/export/",
                view(self.person_export_view),
                name="access_person_export",
            ),
            path(
                "person/<int:person_id>/evidence/",
                view(self.person_evidence_view),
                name="access_person_evidence",
            ),
            path(
                "person/<int:person_id>/evidence.pdf",
                view(self.person_evidence_pdf_view),
                name="access_person_evidence_pdf",
            ),
            *super().get_urls(),
        ]

    def person_export_view(self, request: HttpRequest, person_id: int) -> HttpResponse:
        """GET: what the export holds, and the buttons. POST: record the request, stream."""
        if not request.user.has_perm(EXPORT_PERMISSION):
            raise PermissionDenied
        person = get_object_or_404(Person, pk=person_id)
        export_format = request.POST.get("format", "")
        if request.method == "POST" and export_format in {"zip", "json"}:
            access_request = access_request_receive(
                person=person,
                channel=AccessRequestChannel.STAFF,
                requested_by=request.user.get_username(),
            )
            return export_response(
                person=person, access_request=access_request, export_format=export_format
            )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Export personal data"),
            "person": person,
            "sections": SECTIONS,
            "opts": Person._meta,
            "requests": AccessRequest.objects.filter(person=person)[:20],
        }
        return TemplateResponse(request, "access/admin_export.html", context)

    def person_evidence_view(self, request: HttpRequest, person_id: int) -> HttpResponse:
        if not request.user.has_perm(EVIDENCE_PERMISSION):
            raise PermissionDenied
        return TemplateResponse(
            request, "access/evidence.html", self._evidence_context(request, person_id)
        )

    def person_evidence_pdf_view(self, request: HttpRequest, person_id: int) -> HttpResponse:
        if not request.user.has_perm(EVIDENCE_PERMISSION):
            raise PermissionDenied
        context = self._evidence_context(request, person_id)
        if reason := pdf_unavailable_reason():
            return HttpResponse(reason, status=501, content_type="text/plain; charset=utf-8")
        html = render_to_string("access/evidence.html", {**context, "as_pdf": True}, request)
        response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
        filename = f"consent-evidence-{context['evidence'].person.pk}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def _evidence_context(self, request: HttpRequest, person_id: int) -> dict:
        person = get_object_or_404(Person, pk=person_id)
        list_id = request.GET.get("list") or None
        return {
            "evidence": consent_evidence(person=person, list_id=list_id),
            "list_id": list_id,
            "title": _("Consent evidence"),
            "pdf_available": not pdf_unavailable_reason(),
        }
