"""The admin's Vibes side of the list catalogue: typed ids checked against Vibes, and a
button that reads Vibes' lists and campaigns (``vibes_integration.catalogue``).

The CRM's admin knows lists as the CRM holds them and nothing of Vibes (the layers forbid
it); this module, loaded after it (``crm`` comes first in ``INSTALLED_APPS``), registers
a subclass of its list admin in its place.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from crm.admin.catalogue import SubscriptionListAdmin, SubscriptionListForm
from crm.models import SubscriptionList
from vibes_integration.catalogue import FLAGGED, catalogue_check_ids, catalogue_sync
from vibes_integration.client import VibesClient
from vibes_integration.errors import VibesError


class CheckedSubscriptionListForm(SubscriptionListForm):
    """Ids typed by staff are checked against Vibes when they change: a list Vibes does
    not have, or a campaign that does not opt in to this list, is refused. When Vibes
    cannot be asked, the list is saved and staff are told it was not checked."""

    vibes_unchecked = ""

    def clean(self):
        cleaned = super().clean()
        list_id = cleaned.get("list_id") or (self.instance.list_id if self.instance.pk else "")
        campaign_id = cleaned.get("acquisition_campaign_id") or ""
        changed = {"list_id", "acquisition_campaign_id"} & set(self.changed_data)
        if not list_id or not changed or self.errors:
            return cleaned
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


class VibesSubscriptionListAdmin(SubscriptionListAdmin):
    form = CheckedSubscriptionListForm

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
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


admin.site.unregister(SubscriptionList)
admin.site.register(SubscriptionList, VibesSubscriptionListAdmin)
