"""What each button on the preference page does: one ``crm.services`` call per action.

A handler returns either the sentence that tells the subscriber what changed, or the
bound form with its errors (what they typed is kept), or a page-level message. It never
writes a CRM row itself, so every change reaches the consent ledger and the sync to Vibes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from crm import selectors, services
from crm.choices import OptOutReason, Source, SubscriptionState
from crm.models import Person
from crm.phone import mask_mdn
from prefcenter.conf import setting
from prefcenter.preferences import number_change
from prefcenter.preferences.action_results import ActionResult
from prefcenter.preferences.client import client_ip, consent_context
from prefcenter.preferences.forms import DetailsForm, OptInForm
from prefcenter.preferences.ratelimits import LimitReached, check_opt_in_limits
from prefcenter.preferences.selectors import PENDING, PageState, format_mdn

SOURCE = Source.PREFERENCE_CENTER


def _names(states) -> str:
    return ", ".join(state.subscription_list.name for state in states)


def save_details(request: HttpRequest, state: PageState) -> ActionResult:
    form = DetailsForm(request.POST, person=state.person, custom_fields=state.custom_fields)
    if form.is_valid():
        try:
            change = services.person_update(
                person=state.person, source=SOURCE, **form.service_arguments()
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if not change.changed_fields:
                return ActionResult(ok=True, message=_("Nothing to save: no details changed."))
            labels = sorted(
                (form.label_for(name) for name in change.changed_fields), key=str.casefold
            )
            return ActionResult(
                ok=True,
                message=_("Saved. You changed: %(fields)s.") % {"fields": ", ".join(labels)},
            )
    return ActionResult(ok=False, form_name="details", form=form)


def _number_of_someone_else(error: ValidationError, *, person: Person, mdn: str) -> bool:
    """The service refused the number because another person has it."""
    return "mdn" in getattr(error, "error_dict", {}) and (
        Person.objects.filter(mdn=mdn).exclude(pk=person.pk).exists()
    )


def _joined_message(form: OptInForm, number: str) -> str:
    if len(form.to_request) > 1:
        # Vibes sends one confirmation text per list (one per campaign).
        return _(
            "We sent you %(count)d texts at %(number)s, one for each list: "
            "%(lists)s. Reply Y to each to join that list."
        ) % {"count": len(form.to_request), "number": number, "lists": _names(form.to_request)}
    if form.to_request:
        return _("We are sending a text to %(number)s. Reply Y to it to join %(lists)s.") % {
            "number": number,
            "lists": _names(form.to_request),
        }
    return _("We already texted %(number)s and are waiting for your reply: %(lists)s.") % {
        "number": number,
        "lists": _names(form.awaiting),
    }


def join_lists(request: HttpRequest, state: PageState) -> ActionResult:
    form = OptInForm(request.POST, state=state)
    if form.is_valid():
        mdn = form.cleaned_data["mdn"]
        try:
            with transaction.atomic():
                check_opt_in_limits(
                    person=state.person,
                    mdn=mdn,
                    ip_address=client_ip(request),
                    texts=len(form.to_request),
                )
                for list_state in form.to_request:
                    services.opt_in_request(
                        person=state.person,
                        mdn=mdn,
                        subscription_lists=[list_state.subscription_list],
                        source=SOURCE,
                        consent=consent_context(
                            request, disclosure_text=list_state.disclosure_text
                        ),
                    )
        except LimitReached as exc:
            form.add_error(None, exc.message)
            return ActionResult(ok=False, form_name="optin", form=form, status=429)
        except ValidationError as exc:
            if not _number_of_someone_else(exc, person=state.person, mdn=mdn):
                form.add_service_errors(exc)
                return ActionResult(ok=False, form_name="optin", form=form)
            # Whose the number is, the page never says: it answers as for any number
            # that can get texts, and nothing is sent.
        return ActionResult(ok=True, message=_joined_message(form, format_mdn(mdn)))
    return ActionResult(ok=False, form_name="optin", form=form)


def leave_list(request: HttpRequest, state: PageState) -> ActionResult:
    list_state = state.list_state(request.POST.get("list", ""))
    if list_state is None or not list_state.can_leave:
        return ActionResult(
            ok=False,
            error=_("You are not on that list any more. Nothing was changed."),
            status=400,
        )
    was_pending = list_state.status == PENDING
    services.subscription_leave(
        person=state.person,
        subscription_list=list_state.subscription_list,
        source=SOURCE,
        consent=consent_context(request),
        opt_out_reason=OptOutReason.USER_OPT_OUT,
    )
    name = list_state.subscription_list.name
    if was_pending:
        return ActionResult(ok=True, message=_("You cancelled joining %(list)s.") % {"list": name})
    return ActionResult(
        ok=True,
        message=_("You left %(list)s. You will not get its texts any more.") % {"list": name},
    )


@dataclass(frozen=True)
class StopAllPreview:
    """What "Stop all texts" will end, for the confirmation step: every list the person
    is on or waiting to join (also lists this page does not show), and the numbers
    concerned, masked."""

    lists: list[str]
    numbers: list[str]


def stop_all_preview(state: PageState) -> StopAllPreview:
    ending = selectors.person_subscriptions(state.person).exclude(
        state=SubscriptionState.UNSUBSCRIBED
    )
    numbers = [state.mdn, *state.pending_mdns] if state.mdn else list(state.pending_mdns)
    return StopAllPreview(
        lists=[subscription.subscription_list.name for subscription in ending],
        numbers=[mask_mdn(number) for number in numbers],
    )


def stop_all(request: HttpRequest, state: PageState) -> ActionResult:
    """Only the confirmation step's button (``confirm=yes``) stops; the first press, or a
    form from an older page, shows that step."""
    if request.POST.get("confirm") != "yes":
        return ActionResult(ok=False, confirm_stop_all=True)
    changes = services.person_stop_all(
        person=state.person, source=SOURCE, consent=consent_context(request)
    )
    left = [change.subscription.subscription_list.name for change in changes if change.changed]
    if not left:
        return ActionResult(ok=True, message=_("You were not on any list. Nothing was changed."))
    return ActionResult(
        ok=True,
        message=_("Done: you will get no more texts from %(brand)s. You left: %(lists)s.")
        % {"brand": setting("PREFCENTER_BRAND_NAME"), "lists": ", ".join(left)},
    )


ACTIONS: dict[str, Callable[[HttpRequest, PageState], ActionResult]] = {
    "details": save_details,
    "opt_in": join_lists,
    "leave": leave_list,
    "stop_all": stop_all,
    "change_number": number_change.change_number,
    "remove_number": number_change.remove_number,
}
