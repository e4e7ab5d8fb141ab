"""Person changelist actions that hand out preference-center links.

A link opens a person's data to whoever holds it, so both actions need the permission to
change persons. Showing links is capped so a whole-table selection cannot flood the page.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm.models import Person
from prefcenter.preferences.tasks import email_link_to_person
from prefcenter.preferences.tokens import preference_url

MAX_LINKS_SHOWN = 50


@admin.action(description=gettext_lazy("Show preference-center links"), permissions=["change"])
def copy_preference_links(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Person]
) -> None:
    if not modeladmin.has_change_permission(request):
        raise PermissionDenied
    persons = list(queryset.order_by("pk")[: MAX_LINKS_SHOWN + 1])
    for person in persons[:MAX_LINKS_SHOWN]:
        modeladmin.message_user(
            request,
            _("Preference-center link for %(person)s (%(id)s): %(url)s")
            % {"person": person, "id": person.external_person_id, "url": preference_url(person)},
            messages.INFO,
        )
    if len(persons) > MAX_LINKS_SHOWN:
        modeladmin.message_user(
            request,
            _("Only the first %(n)d links are shown. Select fewer persons to see the others.")
            % {"n": MAX_LINKS_SHOWN},
            messages.WARNING,
        )


@admin.action(description=gettext_lazy("Email preference-center links"), permissions=["change"])
def email_preference_links(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Person]
) -> None:
    if not modeladmin.has_change_permission(request):
        raise PermissionDenied
    queued = 0
    without_email = 0
    for person_id, email in queryset.values_list("pk", "email"):
        if email:
            email_link_to_person.enqueue(person_id)
            queued += 1
        else:
            without_email += 1
    if queued:
        modeladmin.message_user(
            request,
            ngettext(
                "Queued %(n)d link email; the task worker sends it.",
                "Queued %(n)d link emails; the task worker sends them.",
                queued,
            )
            % {"n": queued},
            messages.SUCCESS,
        )
    if without_email:
        modeladmin.message_user(
            request,
            ngettext(
                "%(n)d selected person has no email address and got no link.",
                "%(n)d selected persons have no email address and got no link.",
                without_email,
            )
            % {"n": without_email},
            messages.WARNING,
        )
