"""Staff pages for persons: find anyone by number, edit them, see their consent history.

Every change a staff member saves goes through ``crm.services`` with ``Source.STAFF``, so
that it is validated like any other change, recorded in the consent ledger, and synced to
Vibes by whoever listens to the services' signals. Staff never subscribe a number
themselves: see ``crm.admin.person_saving``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import SEARCH_VAR
from django.db.models import Exists, OuterRef, Prefetch
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm import selectors
from crm.admin.erasure_actions import (
    ERASE_PERMISSION,
    erase_personal_data,
    warn_if_previously_erased,
)
from crm.admin.pagination import LargeTableAdmin
from crm.admin.person_actions import (
    REVOKE_LINKS_PERMISSION,
    STOP_TEXTS_PERMISSION,
    revoke_preference_links,
    stop_all_texts,
)
from crm.admin.person_saving import (
    ServiceRejected,
    announce_opt_ins,
    save_person,
    save_subscriptions,
)
from crm.admin.read_only import ReadOnlyPermissions
from crm.choices import SubscriptionState
from crm.forms import SubscriptionInlineForm, custom_field_form_name, person_form_class
from crm.models import ConsentEvent, CustomField, OptInRequest, Person, Subscription
from crm.phone import mask_mdn


class SubscribedToListFilter(admin.SimpleListFilter):
    title = _("subscribed to")
    parameter_name = "subscribed_to"

    def lookups(self, request, model_admin):
        return [(str(sl.pk), sl.name) for sl in selectors.all_subscription_lists()]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(
            Exists(
                Subscription.objects.filter(
                    person=OuterRef("pk"),
                    subscription_list_id=self.value(),
                    state=SubscriptionState.SUBSCRIBED,
                )
            )
        )


class HasMobileNumberFilter(admin.SimpleListFilter):
    title = _("mobile number")
    parameter_name = "has_mdn"

    def lookups(self, request, model_admin):
        return [("yes", _("Has a number")), ("no", _("No number"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(mdn__isnull=False)
        if self.value() == "no":
            return queryset.filter(mdn__isnull=True)
        return queryset


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    form = SubscriptionInlineForm
    extra = 0
    can_delete = False
    fields = (
        "subscription_list",
        "state",
        "opt_out_reason",
        "opt_in_date",
        "opt_out_date",
        "source",
        "updated_at",
    )
    readonly_fields = ("opt_in_date", "opt_out_date", "source", "updated_at")
    verbose_name_plural = _(
        'subscriptions: "subscribed" texts the person\'s number for confirmation and '
        'shows pending until they reply Y; "not subscribed" ends the subscription at '
        "once (changes are recorded in the consent history)"
    )

    def get_queryset(self, request):
        # Each row's title names its person and list.
        return super().get_queryset(request).select_related("person", "subscription_list")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        list_field = formset.form.base_fields["subscription_list"]
        # Read the lists once for every row instead of once per row.
        list_field.choices = list(list_field.choices)
        # Lists are edited on their own page, not from a person's subscription.
        for flag in ("can_add_related", "can_change_related", "can_delete_related"):
            setattr(list_field.widget, flag, False)
        list_field.widget.can_view_related = False
        return formset


class ReadOnlyInline(ReadOnlyPermissions, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True


class OptInRequestInline(ReadOnlyInline):
    model = OptInRequest
    fields = ("requested_at", "subscription_list", "mdn", "status", "message", "expire_date")
    readonly_fields = fields
    verbose_name_plural = _(
        "web opt-in requests (confirmation texts; open ones wait for the subscriber's Y)"
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("subscription_list")


class ConsentEventInline(ReadOnlyInline):
    model = ConsentEvent
    fields = (
        "occurred_at",
        "subscription_list",
        "action",
        "source",
        "mdn",
        "opt_out_reason",
        "reference",
    )
    readonly_fields = fields
    ordering = ("-occurred_at", "-id")
    verbose_name_plural = _("consent history (read-only)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("subscription_list")


class PersonAdmin(LargeTableAdmin):
    #: Actions on selected persons. Apps that build on the CRM add theirs to this list from
    #: their own admin module (``PersonAdmin.actions.append(...)``) so that crm never
    #: imports them. Every action names the permissions it needs (docs/crm.md); an app
    #: whose action needs a permission of its own adds its ``has_<name>_permission``.
    actions = [stop_all_texts, revoke_preference_links, erase_personal_data]

    #: Renders the read-only "Vibes sync" field of the change page. The Vibes integration
    #: sets it from its own admin module (``PersonAdmin.vibes_sync_renderer = ...``); it is
    #: called with the person and returns the HTML or text to show.
    vibes_sync_renderer: Callable[[Person], Any] | None = None

    list_display = (
        "display_name",
        "masked_mdn",
        "email",
        "external_person_id",
        "subscribed_lists",
        "created_at",
    )
    list_display_links = ("display_name", "external_person_id")
    # Only indexed columns: sorting by another would sort the whole table.
    sortable_by = ("email", "external_person_id", "created_at")
    list_filter = (SubscribedToListFilter, HasMobileNumberFilter, "created_at")
    search_fields = ("external_person_id",)
    search_help_text = _(
        "A mobile number in any format or its last 4 or more digits, an external id, a Vibes "
        "person key, or any part of an email or name (3 or more characters)."
    )
    inlines = (SubscriptionInline, OptInRequestInline, ConsentEventInline)

    def get_queryset(self, request):
        subscribed = Subscription.objects.filter(state=SubscriptionState.SUBSCRIBED).select_related(
            "subscription_list"
        )
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("subscriptions", subscribed, to_attr="subscribed"))
        )

    def get_search_results(self, request, queryset, search_term):
        return selectors.person_search(search_term, queryset), False

    def get_ordering(self, request):
        # A search is answered from its indexes, then sorted: ordered by "id" itself,
        # PostgreSQL may walk the whole primary key looking for a page of rare matches.
        if request.GET.get(SEARCH_VAR):
            return [selectors.PERSON_SEARCH_ORDERING]
        return super().get_ordering(request)

    # The change page.

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = person_form_class(
            self._custom_fields(request), getattr(request, "_crm_service_errors", ())
        )
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        custom = [custom_field_form_name(f) for f in self._custom_fields(request)]
        fieldsets = [
            (
                None,
                {
                    "fields": [
                        "external_person_id",
                        "first_name",
                        "last_name",
                        "email",
                        "mdn",
                        "opt_in_lists",
                    ]
                },
            ),
        ]
        if custom:
            fieldsets.append((_("Custom fields"), {"fields": custom}))
        fieldsets.append(
            (
                _("Vibes"),
                {
                    "fields": [
                        "person_key",
                        "vibes_person_id",
                        "external_id_in_vibes",
                        "carrier_code",
                        "vibes_sync",
                    ]
                },
            ),
        )
        fieldsets.append((_("Record"), {"fields": ["created_at", "updated_at"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = [
            "person_key",
            "vibes_person_id",
            "external_id_in_vibes",
            "carrier_code",
            "vibes_sync",
            "created_at",
            "updated_at",
        ]
        if obj is not None:
            # Vibes knows the person by this id: changing it would make a stranger of them.
            readonly.insert(0, "external_person_id")
        return readonly

    def _custom_fields(self, request) -> list[CustomField]:
        if not hasattr(request, "_crm_custom_fields"):
            request._crm_custom_fields = list(CustomField.objects.order_by("order", "key"))
        return request._crm_custom_fields

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # Django runs a POST of this view in one transaction: a refusal of the services
        # leaves the exception, which rolls back everything this save wrote; the same input
        # is then shown again with the reasons next to the fields.
        if object_id and request.method == "GET":
            warn_if_previously_erased(request, self.get_object(request, object_id))
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ServiceRejected as rejected:
            request._crm_service_errors = rejected.errors
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        person = save_person(request, form, change=change)
        obj.pk = person.pk
        obj._state.adding = False
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not Subscription:
            return super().save_formset(request, form, formset, change)
        return save_subscriptions(request, form, formset)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        request._crm_opt_ins_started = announce_opt_ins(request)

    def response_add(self, request, obj, post_url_continue=None):
        response = super().response_add(request, obj, post_url_continue)
        return self._show_opt_ins(request, obj, response)

    def response_change(self, request, obj):
        return self._show_opt_ins(request, obj, super().response_change(request, obj))

    def _show_opt_ins(self, request, obj, response):
        """After starting a confirmation text, show the person's page with its opt-in."""
        if not getattr(request, "_crm_opt_ins_started", False):
            return response
        if not isinstance(response, HttpResponseRedirect) or "_addanother" in request.POST:
            return response
        return HttpResponseRedirect(
            reverse(
                f"{self.admin_site.name}:crm_person_change",
                args=[obj.pk],
                current_app=self.admin_site.name,
            )
        )

    def has_stop_texts_permission(self, request) -> bool:
        return request.user.has_perm(STOP_TEXTS_PERMISSION)

    def has_erase_person_permission(self, request) -> bool:
        return request.user.has_perm(ERASE_PERMISSION)

    def has_revoke_links_permission(self, request) -> bool:
        return request.user.has_perm(REVOKE_LINKS_PERMISSION)

    def has_delete_permission(self, request, obj=None):
        # A person's consent history must outlive any edit; persons leave lists, they are
        # not deleted from here.
        return False

    # Columns.

    @admin.display(description=_("name"))
    def display_name(self, obj: Person) -> str:
        return obj.full_name or "—"

    @admin.display(description=_("mobile number"))
    def masked_mdn(self, obj: Person) -> str:
        return mask_mdn(obj.mdn) or "—"

    @admin.display(description=_("subscribed to"))
    def subscribed_lists(self, obj: Person) -> str:
        lists = getattr(obj, "subscribed", None)
        if lists is None:
            lists = selectors.person_subscriptions(obj).filter(state=SubscriptionState.SUBSCRIBED)
        return ", ".join(s.subscription_list.name for s in lists) or "—"

    @admin.display(description=_("Vibes sync"))
    def vibes_sync(self, obj: Person) -> Any:
        renderer = type(self).vibes_sync_renderer
        if renderer is None or obj.pk is None:
            return "—"
        return renderer(obj)


admin.site.register(Person, PersonAdmin)
