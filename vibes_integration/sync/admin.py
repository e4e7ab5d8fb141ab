"""Staff pages of the outbound sync: the outbox, the call log, the dashboard, and the
sync state and resync action on the person pages.

Outbox rows and calls are records of what happened: read-only here. Staff act on them
through actions (retry), never by editing them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.admin.pagination import LargeTableAdmin
from crm.admin.persons import PersonAdmin
from crm.admin.read_only import ReadOnlyPermissions
from crm.erasure_selectors import erasure_overview
from crm.models import Person
from prefcenter.workers.status import workers_status
from vibes_integration.sync import services
from vibes_integration.sync.admin_actions import (
    has_resync_permission,
    resync_persons,
    retry_operations,
)
from vibes_integration.sync.chart import activity_chart
from vibes_integration.sync.choices import OperationStatus, SyncStatus
from vibes_integration.sync.lag import lag_figures
from vibes_integration.sync.models import Operation, OutboundCall
from vibes_integration.sync.selectors import (
    person_sync_state,
    recent_problems,
    sync_dashboard,
)


class ReadOnlyAdmin(ReadOnlyPermissions, LargeTableAdmin):
    """Outbox rows and calls are records: staff act on them through actions only."""


def person_link(person: Person | None) -> str:
    if person is None:
        return "—"
    url = reverse("admin:crm_person_change", args=[person.pk])
    return format_html('<a href="{}">{}</a>', url, person)


@admin.register(Operation)
class OperationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "person_column",
        "target",
        "status",
        "edits",
        "attempts",
        "next_attempt_at",
        "http_status",
        "error_summary",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "kind", "resolved", "source")
    list_select_related = ("person", "subscription_list", "opt_in_request__subscription_list")
    search_fields = ("person__external_person_id", "=person__person_key")
    search_help_text = _("An external person id, or an exact Vibes person key.")
    actions = (retry_operations,)
    readonly_fields = [field.name for field in Operation._meta.fields if field.name != "id"]
    change_list_template = "admin/vibes_sync/operation/change_list.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Records are never edited (the detail page is view-only), but the retry action
        # and the dashboard's retry button need the permission on the list.
        if obj is not None:
            return False
        return request.user.has_perm("vibes_sync.change_operation")

    @admin.display(description=_("person"), ordering="person")
    def person_column(self, obj: Operation) -> str:
        return person_link(obj.person)

    @admin.display(description=_("error"))
    def error_summary(self, obj: Operation) -> str:
        return Truncator(obj.error).chars(120) if obj.error else "—"

    def get_urls(self):
        return [
            path(
                "dashboard/",
                self.admin_site.admin_view(self.dashboard_view),
                name="vibes_sync_dashboard",
            ),
            *super().get_urls(),
        ]

    def dashboard_view(self, request: HttpRequest):
        if request.method == "POST" and "retry_failed" in request.POST:
            if not self.has_change_permission(request):
                messages.error(request, _("You may not retry operations."))
            else:
                count = services.operations_retry(
                    operation_ids=Operation.objects.filter(
                        status=OperationStatus.FAILED, resolved=False
                    ).values_list("pk", flat=True)
                )
                messages.success(
                    request,
                    ngettext(
                        "%(count)d failed operation will be sent again.",
                        "%(count)d failed operations will be sent again.",
                        count,
                    )
                    % {"count": count},
                )
            return HttpResponseRedirect(reverse("admin:vibes_sync_dashboard"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Vibes sync"),
            "dashboard": sync_dashboard(),
            "workers": workers_status(),
            "lag": lag_figures(),
            "chart": activity_chart(),
            "failures": recent_problems(OperationStatus.FAILED),
            "conflicts": recent_problems(OperationStatus.CONFLICT),
            "erasures": erasure_overview(),
            "opts": self.model._meta,
            "can_retry": self.has_change_permission(request),
        }
        return TemplateResponse(request, "admin/vibes_sync/dashboard.html", context)


@admin.register(OutboundCall)
class OutboundCallAdmin(ReadOnlyAdmin):
    list_display = (
        "made_at",
        "action",
        "http_status",
        "ok",
        "duration_ms",
        "person_column",
        "operation",
        "error_summary",
    )
    list_filter = ("ok", "action", "http_status")
    list_select_related = ("person", "operation")
    search_fields = ("person__external_person_id",)
    ordering = ("-made_at", "-id")

    @admin.display(description=_("person"))
    def person_column(self, obj: OutboundCall) -> str:
        return person_link(obj.person)

    @admin.display(description=_("error"))
    def error_summary(self, obj: OutboundCall) -> str:
        return Truncator(obj.error).chars(120) if obj.error else "—"


_STATE_CLASSES = {
    SyncStatus.IN_SYNC: "vibes-sync-ok",
    SyncStatus.PENDING: "vibes-sync-pending",
    SyncStatus.FAILED: "vibes-sync-failed",
    SyncStatus.CONFLICT: "vibes-sync-conflict",
    SyncStatus.NOT_SENT: "vibes-sync-pending",
}


def render_person_sync(person: Person) -> str:
    """The "Vibes sync" field of the person change page: state, reason, where to look."""
    state = person_sync_state(person)
    operations = reverse("admin:vibes_sync_operation_changelist")
    link = format_html(
        '<a href="{}?q={}">{}</a>', operations, person.external_person_id, _("operations")
    )
    if state.reason:
        return format_html(
            '<strong class="{}">{}</strong>: {} ({})',
            _STATE_CLASSES[state.status],
            state.label,
            state.reason,
            link,
        )
    return format_html(
        '<strong class="{}">{}</strong> ({})', _STATE_CLASSES[state.status], state.label, link
    )


# The person pages are the CRM's; they offer hooks for the integration to fill in.
if resync_persons not in PersonAdmin.actions:
    PersonAdmin.actions.append(resync_persons)
PersonAdmin.has_resync_permission = has_resync_permission
PersonAdmin.vibes_sync_renderer = staticmethod(render_person_sync)
