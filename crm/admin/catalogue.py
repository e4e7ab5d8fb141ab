"""Staff pages for the catalogue that mirrors Vibes: subscription lists and custom fields."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm import services
from crm.choices import Source
from crm.models import CustomField, SubscriptionList


class SubscriptionListForm(forms.ModelForm):
    """The fields staff set; the Vibes integration's admin adds the check of the ids
    against Vibes (``vibes_integration.admin``)."""

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


class SubscriptionListAdmin(admin.ModelAdmin):
    """Lists as the CRM holds them. The button that reads Vibes' catalogue, and the check
    of typed ids against Vibes, are the Vibes integration's (``vibes_integration.admin``
    registers a subclass in place of this one)."""

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
        # Every field staff set, but the list id: it names the list to write.
        values = {
            name: form.cleaned_data[name]
            for name in SubscriptionListForm.Meta.fields
            if name != "list_id"
        }
        subscription_list, _created = services.subscription_list_upsert(
            list_id=obj.list_id, source=Source.STAFF, **values
        )
        obj.pk = subscription_list.pk
        obj._state.adding = False
        obj.refresh_from_db()

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
