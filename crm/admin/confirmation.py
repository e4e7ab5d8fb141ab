"""A confirmation step for admin actions that cannot be undone, like Django's delete page.

An action that stops texts, revokes links or erases data first answers with a page that
says what will happen to whom (how many, which lists, masked numbers) and asks to
confirm; the action runs only when that page's form comes back (``post=yes``). The page
carries the selection forward as the changelist sent it: the ticked rows, or "all that
match" (``select_across``) together with the changelist's filters, which stay in the
address the form posts to. Both requests go through the changelist's own action
handling, so a user without the action's permission is refused at either step.

An action may add a small form (a note, say) to the page: it is shown above the buttons,
and the action runs only once it is valid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

#: How many of the selected rows the page lists by name; the rest are counted.
ROWS_SHOWN = 25

TEMPLATE = "admin/action_confirmation.html"


@dataclass(frozen=True)
class ConfirmationRow:
    """One selected object as the page lists it."""

    label: str
    url: str = ""
    details: Sequence[str] = ()


@dataclass
class ActionConfirmation:
    """What the confirmation page says.

    ``question`` is the sentence the page asks ("Stop all texts for 3 persons?"),
    ``consequences`` the lines that say what happens (each list left, with how many
    subscriptions end), ``rows`` the first selected objects, ``total`` how many are selected.
    """

    title: str
    question: str
    total: int
    rows: Sequence[ConfirmationRow]
    consequences: Sequence[str] = ()
    consequences_heading: str = ""
    confirm_label: str = ""  # empty: Django's own "Yes, I am sure" wording
    form: forms.Form | None = None

    @property
    def more(self) -> int:
        return max(self.total - len(self.rows), 0)


def action_confirmed(request: HttpRequest) -> bool:
    """True when the request is the confirmation page's form coming back."""
    return request.method == "POST" and request.POST.get("post") == "yes"


def confirmation_form(request: HttpRequest, form_class: type[forms.Form]) -> forms.Form:
    """The action's own form: bound on the confirming POST, empty on the first one."""
    return form_class(request.POST) if action_confirmed(request) else form_class()


def change_url(modeladmin: admin.ModelAdmin, obj) -> str:
    opts = modeladmin.model._meta
    return reverse(
        f"{modeladmin.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
        args=[obj.pk],
        current_app=modeladmin.admin_site.name,
    )


def shown_rows(queryset: QuerySet) -> QuerySet:
    """The first ``ROWS_SHOWN`` selected objects, in a stable order."""
    return queryset.order_by("pk")[:ROWS_SHOWN]


def render_action_confirmation(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    confirmation: ActionConfirmation,
    *,
    action: str,
) -> TemplateResponse:
    """The confirmation page for ``action`` on what ``request`` selected."""
    opts = modeladmin.model._meta
    select_across = request.POST.get("select_across") in {"1", "True", "true", "on"}
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": confirmation.title,
        "subtitle": None,
        "confirmation": confirmation,
        "opts": opts,
        "app_label": opts.app_label,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": select_across,
        # The changelist with its filters: where the form posts, and where Cancel goes.
        "changelist_url": request.get_full_path(),
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, TEMPLATE, context)
