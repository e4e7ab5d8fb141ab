"""Admin actions of the outbound sync, for the person and operation change lists."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.choices import Source
from vibes_integration.sync import services


@admin.action(description=_("Send to Vibes again (resync)"))
def resync_persons(modeladmin, request, queryset) -> None:
    """Queue one Update Person with each selected person's current state."""
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


@admin.action(description=_("Retry the selected failed operations"))
def retry_operations(modeladmin, request, queryset) -> None:
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
