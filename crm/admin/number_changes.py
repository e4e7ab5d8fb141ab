"""Staff page for changes of number: what each one became, and the conflicts to decide.

A change whose new number another subscriber holds sends nothing and changes nobody;
it waits here (status "conflict", filter on it) with both persons named, for staff to
find out who the number really belongs to.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.admin.records import SearchedByPersonAdmin
from crm.models import NumberChange
from crm.phone import mask_mdn


class NumberChangeAdmin(SearchedByPersonAdmin):
    list_display = (
        "created_at",
        "person",
        "masked_old",
        "masked_new",
        "status",
        "conflict_person",
        "source",
        "settled_at",
    )
    list_filter = ("status", "source", "created_at")
    list_select_related = ("person", "conflict_person")

    @admin.display(description=_("old number"))
    def masked_old(self, obj: NumberChange) -> str:
        return mask_mdn(obj.old_mdn)

    @admin.display(description=_("new number"))
    def masked_new(self, obj: NumberChange) -> str:
        return mask_mdn(obj.new_mdn)


admin.site.register(NumberChange, NumberChangeAdmin)
