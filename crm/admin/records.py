"""Read-only staff pages for what happened: subscriptions, web opt-ins and the consent ledger.

Subscriptions are changed on the person's page (through ``crm.services``); opt-in requests
change only as Vibes answers; consent events are never changed by anyone.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm import selectors
from crm.admin.pagination import LargeTableAdmin
from crm.admin.read_only import ReadOnlyPermissions
from crm.models import ConsentEvent, OptInRequest, Person, Subscription
from crm.phone import mask_mdn, try_parse_mdn


def _person_matches(term: str) -> Q:
    """Rows whose person a staff member's search term finds (see ``person_search``)."""
    return Q(person__in=selectors.person_search(term, Person.objects.all()).values("pk"))


class ReadOnlyAdmin(ReadOnlyPermissions, LargeTableAdmin):
    """Staff may look, filter and search; nobody adds, changes or deletes here."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


class SearchedByPersonAdmin(ReadOnlyAdmin):
    """A table of a person's records, searched by the person (see ``person_search``)."""

    search_fields = ("person__external_person_id",)
    search_help_text = _("The person's number in any format, external id, email or name.")

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(_person_matches(search_term)), False


class SubscriptionAdmin(SearchedByPersonAdmin):
    list_display = (
        "person",
        "subscription_list",
        "state",
        "source",
        "opt_in_date",
        "opt_out_date",
        "opt_out_reason",
        "updated_at",
    )
    list_filter = ("state", "subscription_list", "source", "opt_out_reason", "updated_at")
    sortable_by = ("updated_at",)
    list_select_related = ("person", "subscription_list")


class OptInRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "requested_at",
        "masked_mdn",
        "person",
        "subscription_list",
        "status",
        "source",
        "message",
        "error_code",
        "expire_date",
    )
    list_filter = ("status", "subscription_list", "source", "requested_at")
    list_select_related = ("person", "subscription_list")
    search_fields = ("mdn",)
    search_help_text = _("A number in any format, or the person's external id, email or name.")

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        condition = _person_matches(search_term)
        mdn = try_parse_mdn(search_term)
        if mdn is not None:
            condition |= Q(mdn=mdn)
        return queryset.filter(condition), False

    @admin.display(description=_("mobile number"))
    def masked_mdn(self, obj: OptInRequest) -> str:
        return mask_mdn(obj.mdn)


class ConsentEventAdmin(ReadOnlyAdmin):
    """The consent ledger: append-only, shown exactly as recorded."""

    list_display = (
        "occurred_at",
        "person",
        "subscription_list",
        "action",
        "source",
        "masked_mdn",
        "reference",
    )
    list_filter = ("action", "source", "subscription_list", "occurred_at")
    sortable_by = ("occurred_at",)
    list_select_related = ("person", "subscription_list")
    search_fields = ("reference",)
    search_help_text = _(
        "What caused it (request:…, callback:…, staff:…), or the person's number, "
        "external id, email or name."
    )
    ordering = ("-occurred_at", "-id")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(reference=term) | _person_matches(term)), False

    @admin.display(description=_("mobile number"))
    def masked_mdn(self, obj: ConsentEvent) -> str:
        return mask_mdn(obj.mdn) or "—"


admin.site.register(Subscription, SubscriptionAdmin)
admin.site.register(OptInRequest, OptInRequestAdmin)
admin.site.register(ConsentEvent, ConsentEventAdmin)
