"""Staff pages for the catalogue that mirrors Vibes: subscription lists and custom fields."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm import services
from crm.choices import Source
from crm.models import CustomField, SubscriptionList


class SubscriptionListForm(forms.ModelForm):
    """Ids typed by staff are checked against Vibes when they change: a list Vibes does
    not have, or a campaign that does not opt in to this list, is refused. When Vibes
    cannot be asked, the list is saved and staff are told it was not checked."""

    vibes_unchecked = ""

    class Meta:
        model = SubscriptionList
        fields = (
            "list_id",
            "name",
            "description",
            "disclosure",
            "acquisition_campaign_id",
            "keyword",
            "shown_in_preference_center",
            "order",
        )

    def clean(self):
        cleaned = super().clean()
        list_id = cleaned.get("list_id") or (self.instance.list_id if self.instance.pk else "")
        campaign_id = cleaned.get("acquisition_campaign_id") or ""
        changed = {"list_id", "acquisition_campaign_id"} & set(self.changed_data)
        if not list_id or not changed or self.errors:
            return cleaned
        from vibes_integration.catalogue import catalogue_check_ids
        from vibes_integration.client import VibesClient
        from vibes_integration.errors import VibesError

        try:
            problems = catalogue_check_ids(
                client=VibesClient.from_settings(),
                list_id=list_id,
                acquisition_campaign_id=campaign_id,
            )
        except VibesError as exc:
            self.vibes_unchecked = str(exc)
            return cleaned
        for name, message in problems.items():
            self.add_error(name if name in self.fields else None, message)
        return cleaned


class SubscriptionListAdmin(admin.ModelAdmin):
    form = SubscriptionListForm
    change_list_template = "admin/crm/subscriptionlist/change_list.html"
    list_display = (
        "name",
        "list_id",
        "keyword",
        "acquisition_campaign_id",
        "shown_in_preference_center",
        "order",
        "subscriptions_link",
    )
    list_filter = ("shown_in_preference_center",)
    search_fields = ("name", "list_id", "keyword")
    fieldsets = (
        (None, {"fields": ("list_id", "name", "description", "order")}),
        (
            _("Preference center"),
            {"fields": ("shown_in_preference_center", "disclosure", "acquisition_campaign_id")},
        ),
        (_("Vibes"), {"fields": ("keyword", "created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        readonly = ["created_at", "updated_at"]
        if obj is not None:
            # The Vibes list id is the identity every subscription and callback refers to.
            readonly.insert(0, "list_id")
        return readonly

    def save_model(self, request, obj, form, change):
        values = {
            name: form.cleaned_data[name]
            for name in (
                "name",
                "description",
                "disclosure",
                "acquisition_campaign_id",
                "keyword",
                "shown_in_preference_center",
                "order",
            )
        }
        subscription_list, _created = services.subscription_list_upsert(
            list_id=obj.list_id, source=Source.STAFF, **values
        )
        obj.pk = subscription_list.pk
        obj._state.adding = False
        obj.refresh_from_db()
        if getattr(form, "vibes_unchecked", ""):
            messages.warning(
                request,
                _("Saved, but the ids could not be checked against Vibes: %(error)s")
                % {"error": form.vibes_unchecked},
            )

    def has_catalogue_permission(self, request: HttpRequest) -> bool:
        """Reading the catalogue creates and changes lists: it takes both permissions."""
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_read_catalogue": self.has_catalogue_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "catalogue/",
                self.admin_site.admin_view(self.catalogue_view),
                name="crm_subscriptionlist_catalogue",
            ),
            *super().get_urls(),
        ]

    def catalogue_view(self, request: HttpRequest):
        """Read Vibes' lists and campaigns now (a POST from the changelist's button)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_catalogue_permission(request):
            raise PermissionDenied
        from vibes_integration.catalogue import FLAGGED, catalogue_sync
        from vibes_integration.client import VibesClient
        from vibes_integration.errors import VibesError

        try:
            report = catalogue_sync(client=VibesClient.from_settings())
        except VibesError as exc:
            messages.error(
                request,
                _("Vibes could not be read: %(error)s. Nothing was changed.") % {"error": exc},
            )
        else:
            for line in report.lines:
                if line.outcome == FLAGGED:
                    messages.warning(request, line.message)
            messages.success(
                request, _("Read from Vibes: %(summary)s") % {"summary": report.summary}
            )
        return HttpResponseRedirect(reverse("admin:crm_subscriptionlist_changelist"))

    @admin.display(description=_("subscriptions"))
    def subscriptions_link(self, obj: SubscriptionList) -> str:
        # A link rather than a count: counting a list's subscribers reads all of them.
        url = reverse("admin:crm_subscription_changelist")
        return format_html(
            '<a href="{}?subscription_list__id__exact={}">{}</a>', url, obj.pk, _("Show")
        )


class CustomFieldAdmin(admin.ModelAdmin):
    """Custom field definitions, mirroring those defined in Vibes.

    Saved through the model: a definition is configuration, not subscriber data, and
    ``CustomField.clean`` checks the options of choice fields.
    """

    list_display = (
        "key",
        "label",
        "field_type",
        "required",
        "visible_to_subscribers",
        "editable_by_subscribers",
        "synced_to_vibes",
        "order",
    )
    list_filter = (
        "field_type",
        "required",
        "visible_to_subscribers",
        "editable_by_subscribers",
        "synced_to_vibes",
    )
    search_fields = ("key", "label")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "key",
                    "label",
                    "field_type",
                    "options",
                    "help_text",
                    "required",
                    "visible_to_subscribers",
                    "editable_by_subscribers",
                    "synced_to_vibes",
                    "order",
                )
            },
        ),
        (
            _("What a person may type"),
            {
                "fields": (
                    ("min_value", "max_value", "whole_numbers_only"),
                    ("min_length", "max_length"),
                ),
                "description": _(
                    "Checked on the preference page, in the admin and in the API; the "
                    "error tells the person the range or length to use."
                ),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # Values are stored under the key; renaming it would orphan them.
        return ("key",) if obj is not None else ()


admin.site.register(SubscriptionList, SubscriptionListAdmin)
admin.site.register(CustomField, CustomFieldAdmin)
