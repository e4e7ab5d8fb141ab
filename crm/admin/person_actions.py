"""Actions on selected persons that cannot be undone: stop all texts, revoke links.

Each needs its own permission (``crm.stop_texts``, ``crm.revoke_links``; see docs/crm.md)
and first shows a confirmation page that says how many persons, which lists they leave
and their numbers, masked. Only the confirming POST changes anything.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from crm import services
from crm.admin.confirmation import (
    ActionConfirmation,
    ConfirmationRow,
    action_confirmed,
    change_url,
    render_action_confirmation,
    shown_rows,
)
from crm.admin.person_saving import staff_consent
from crm.choices import Source, SubscriptionState
from crm.models import Person, Subscription
from crm.phone import mask_mdn

STOP_TEXTS_PERMISSION = "crm.stop_texts"
REVOKE_LINKS_PERMISSION = "crm.revoke_links"


def _active_subscriptions() -> QuerySet[Subscription]:
    """What "Stop all texts" ends: every subscription not already ended."""
    return Subscription.objects.exclude(state=SubscriptionState.UNSUBSCRIBED)


def lists_left(queryset: QuerySet[Person]) -> list[tuple[str, int]]:
    """Each list the selected persons would leave, with how many of them are on it."""
    return [
        (row["subscription_list__name"], row["persons"])
        for row in _active_subscriptions()
        .filter(person__in=queryset.order_by().values("pk"))
        .values("subscription_list__name")
        .annotate(persons=Count("person", distinct=True))
        .order_by("subscription_list__name")
    ]


def person_rows(
    modeladmin: admin.ModelAdmin, queryset: QuerySet[Person], *, with_lists: bool
) -> list[ConfirmationRow]:
    """The first selected persons: name, masked number and, if asked, the lists they leave."""
    persons = shown_rows(queryset)
    if with_lists:
        persons = persons.prefetch_related(
            Prefetch(
                "subscriptions",
                _active_subscriptions().select_related("subscription_list"),
                to_attr="ending",
            )
        )
    rows = []
    for person in persons:
        details = [mask_mdn(person.mdn) or _("no number"), person.external_person_id]
        if with_lists:
            names = [s.subscription_list.name for s in person.ending]
            details.append(", ".join(names) if names else _("on no list"))
        rows.append(
            ConfirmationRow(
                label=person.full_name or person.external_person_id,
                url=change_url(modeladmin, person),
                details=details,
            )
        )
    return rows


def _persons(total: int) -> str:
    return ngettext("%(count)d person", "%(count)d persons", total) % {"count": total}


@admin.action(
    description=gettext_lazy("Stop all texts: leave every list"), permissions=["stop_texts"]
)
def stop_all_texts(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Person]):
    if not request.user.has_perm(STOP_TEXTS_PERMISSION):
        raise PermissionDenied
    if not action_confirmed(request):
        total = queryset.count()
        lists = lists_left(queryset)
        consequences = [
            ngettext(
                "%(list)s: %(count)d person leaves it.",
                "%(list)s: %(count)d persons leave it.",
                count,
            )
            % {"list": name, "count": count}
            for name, count in lists
        ] or [_("None of them is on a list: nothing will change.")]
        confirmation = ActionConfirmation(
            title=_("Stop all texts"),
            question=_(
                "Stop all texts for %(persons)s? They leave every list they are on or "
                "waiting to join; the opt-outs are recorded in their consent history and "
                "sent to Vibes. Only the persons themselves can join again."
            )
            % {"persons": _persons(total)},
            total=total,
            rows=person_rows(modeladmin, queryset, with_lists=True),
            consequences=consequences,
            consequences_heading=_("Lists they leave"),
            confirm_label=_("Yes, stop all texts"),
        )
        return render_action_confirmation(
            modeladmin, request, confirmation, action="stop_all_texts"
        )
    consent = staff_consent(request)
    left = 0
    for person in queryset.order_by("pk").iterator(chunk_size=500):
        left += sum(
            change.changed
            for change in services.person_stop_all(
                person=person, source=Source.STAFF, consent=consent
            )
        )
    modeladmin.message_user(
        request,
        ngettext("%(count)d subscription ended.", "%(count)d subscriptions ended.", left)
        % {"count": left},
        messages.SUCCESS,
    )
    return None


@admin.action(
    description=gettext_lazy("Revoke preference-center links"), permissions=["revoke_links"]
)
def revoke_preference_links(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Person]
):
    if not request.user.has_perm(REVOKE_LINKS_PERMISSION):
        raise PermissionDenied
    if not action_confirmed(request):
        total = queryset.count()
        confirmation = ActionConfirmation(
            title=_("Revoke preference-center links"),
            question=_(
                "Revoke the preference-center links of %(persons)s? Every link already "
                "sent to them stops working; they can ask for a new one by email."
            )
            % {"persons": _persons(total)},
            total=total,
            rows=person_rows(modeladmin, queryset, with_lists=False),
            confirm_label=_("Yes, revoke their links"),
        )
        return render_action_confirmation(
            modeladmin, request, confirmation, action="revoke_preference_links"
        )
    count = 0
    for person in queryset.order_by("pk").iterator(chunk_size=500):
        services.person_rotate_link_secret(person=person)
        count += 1
    modeladmin.message_user(
        request,
        ngettext(
            "Links revoked for %(count)d person.", "Links revoked for %(count)d persons.", count
        )
        % {"count": count},
        messages.SUCCESS,
    )
    return None
