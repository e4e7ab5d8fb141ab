"""Admin actions of the outbound sync, for the person and operation change lists.

Resync needs ``vibes_sync.resync`` (the person admin gets ``has_resync_permission`` from
``vibes_integration.sync.admin``); retry needs the permission to change operations.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.choices import Source
from vibes_integration.sync import services

RESYNC_PERMISSION = "vibes_sync.resync"


def has_resync_permission(modeladmin, request) -> bool:
    return request.user.has_perm(RESYNC_PERMISSION)


@admin.action(description=_("Send to Vibes again (resync)"), permissions=["resync"])
def resync_persons(modeladmin, request, queryset) -> None:
    """Queue one Update Person with each selected person's current state."""
    if not has_resync_permission(modeladmin, request):
        raise PermissionDenied
    count = services.persons_resync(
        person_ids=queryset.order_by().values_list("pk", flat=True).iterator(chunk_size=2000),
        source=Source.STAFF,
    )
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d person will be sent to Vibes again.",
            "%(count)d persons will be sent to Vibes again.",
            count,
        )
        % {"count": count},
        messages.SUCCESS,
    )


@admin.action(description=_("Retry the selected failed operations"), permissions=["change"])
def retry_operations(modeladmin, request, queryset) -> None:
    if not modeladmin.has_change_permission(request):
        raise PermissionDenied
    selected = list(queryset.values_list("pk", flat=True))
    count = services.operations_retry(operation_ids=selected)
    skipped = len(selected) - count
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d operation will be sent again.",
            "%(count)d operations will be sent again.",
            count,
        )
        % {"count": count},
        messages.SUCCESS if count else messages.WARNING,
    )
    if skipped:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d selected operation was not failed and was left alone.",
                "%(count)d selected operations were not failed and were left alone.",
                skipped,
            )
            % {"count": skipped},
            messages.INFO,
        )
