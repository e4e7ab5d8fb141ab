"""The admin action that erases persons' personal data (GDPR article 17, CCPA).

It needs its own permission (``crm.erase_person``), shows the confirmation page first
(how many persons, their masked numbers, what is kept), and only the confirming POST
erases. Each person gets an erasure request whose progress the sync dashboard shows.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm.admin.confirmation import ActionConfirmation, action_confirmed, render_action_confirmation
from crm.admin.person_actions import person_rows
from crm.choices import Source
from crm.erasure_models import ERASED_ID_PREFIX, person_is_erased
from crm.erasure_selectors import erasure_suppression_find
from crm.models import Person
from crm.services.erasure import erasure_request

ERASE_PERMISSION = "crm.erase_person"


@admin.action(
    description=gettext_lazy("Erase personal data (erasure request)"),
    permissions=["erase_person"],
)
def erase_personal_data(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Person]
):
    if not request.user.has_perm(ERASE_PERMISSION):
        raise PermissionDenied
    queryset = queryset.exclude(external_person_id__startswith=ERASED_ID_PREFIX)
    if not action_confirmed(request):
        total = queryset.count()
        confirmation = ActionConfirmation(
            title=_("Erase personal data"),
            question=ngettext(
                "Erase the personal data of %(count)d person? This cannot be undone.",
                "Erase the personal data of %(count)d persons? This cannot be undone.",
                total,
            )
            % {"count": total},
            total=total,
            rows=person_rows(modeladmin, queryset, with_lists=True),
            consequences=[
                _("Names, email, number, custom field values are erased now."),
                _(
                    "Addresses and user agents in their consent history are erased; the "
                    "opt-ins and opt-outs themselves are kept as proof."
                ),
                _(
                    "They leave every list; Vibes is told to end their lists and nullify "
                    "them (see the sync dashboard for progress)."
                ),
                _(
                    "Their number and email are kept only as keyed hashes, so that they are "
                    "recognised as opted out if they come back."
                ),
            ],
            consequences_heading=_("What happens"),
            confirm_label=_("Yes, erase their data"),
        )
        return render_action_confirmation(
            modeladmin, request, confirmation, action="erase_personal_data"
        )
    erased = 0
    for person in queryset.order_by("pk"):
        erasure_request(person=person, source=Source.STAFF, requested_by=f"staff:{request.user.pk}")
        erased += 1
    modeladmin.message_user(
        request,
        ngettext(
            "Erased the personal data of %(count)d person; Vibes is being told.",
            "Erased the personal data of %(count)d persons; Vibes is being told.",
            erased,
        )
        % {"count": erased},
        messages.SUCCESS,
    )
    return None


def warn_if_previously_erased(request: HttpRequest, person: Person | None) -> None:
    """On a person's page: say so when their number or email belonged to an erased person
    (recognised by the keyed hashes), since that person's consent ended with the erasure."""
    if person is None or person_is_erased(person):
        if person is not None:
            messages.info(request, _("This person was erased: only the consent history is kept."))
        return
    erased = erasure_suppression_find(mdn=person.mdn, email=person.email)
    if erased is not None:
        messages.warning(
            request,
            _(
                "This number or email belonged to a person erased on %(date)s (erasure "
                "request %(id)s). They are opted out: only their own new opt-in subscribes them."
            )
            % {"date": erased.received_at.date().isoformat(), "id": erased.pk},
        )
