"""The page's mobile-number section: change the number, or remove it (with a step that
asks first). Both go through ``crm.services`` (``number_change_request``,
``number_remove``); the design and the order of Vibes calls are in docs/preferences.md.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import services
from crm.choices import NumberChangeStatus, Source
from crm.models import NumberChange, Person
from crm.phone import mask_mdn
from prefcenter.preferences.action_results import ActionResult
from prefcenter.preferences.client import client_ip, consent_context
from prefcenter.preferences.forms import OptInForm
from prefcenter.preferences.ratelimits import LimitReached, check_opt_in_limits
from prefcenter.preferences.selectors import NOT_SUBSCRIBED, PageState, format_mdn

SOURCE = Source.PREFERENCE_CENTER
#: A change refused for staff (the number is another subscriber's) looks like a change
#: waiting for its reply for as long as a Vibes confirmation usually stays open.
CONFLICT_SHOWN_FOR = datetime.timedelta(days=1)


class NumberChangeForm(OptInForm):
    """The new number and the lists it should take over (pre-selected: the lists the
    person is on or waiting for), each with its disclosure, as the join form has them."""

    def __init__(self, data: Any = None, *, state: PageState) -> None:
        chosen = [
            item.subscription_list.list_id
            for item in state.joinable_lists
            if item.status != NOT_SUBSCRIBED
        ]
        super().__init__(data, state=state, preselected=chosen)
        self.prefix = "number"
        self.initial["mdn"] = ""
        self.fields["mdn"].label = _("New mobile number")
        self.fields["mdn"].error_messages["required"] = _("Enter your new mobile number.")
        self.fields["lists"].label = _("Lists for the new number")

    def clean(self) -> dict[str, Any]:
        cleaned = super(OptInForm, self).clean()
        chosen_ids = cleaned.get("lists") or []
        chosen = [s for s in self.joinable if s.subscription_list.list_id in chosen_ids]
        changed = [
            s.subscription_list.name
            for s in chosen
            if self.data.get(f"disclosure_{s.subscription_list.list_id}") != s.disclosure_digest
        ]
        if changed:
            self.add_error(
                "lists",
                _("The terms for %(names)s changed. Please read them again, then send.")
                % {"names": ", ".join(changed)},
            )
        elif cleaned.get("mdn") and cleaned["mdn"] == self.state.mdn:
            self.add_error("mdn", _("That is already your number. Enter the new one."))
        self.to_request = chosen
        return cleaned


def waiting_change(person: Person) -> NumberChange | None:
    """The change the page shows as waiting for the new number's reply."""
    latest = NumberChange.objects.filter(person=person).order_by("-created_at", "-id").first()
    if latest is None:
        return None
    if latest.status == NumberChangeStatus.PENDING:
        return latest
    if (
        latest.status == NumberChangeStatus.CONFLICT
        and timezone.now() - latest.created_at < CONFLICT_SHOWN_FOR
    ):
        return latest
    return None


def section_context(request: HttpRequest, state: PageState, form: Any = None) -> dict:
    """What the mobile-number section needs; ``?remove=confirm`` (the button without
    JavaScript) or an unconfirmed removal POST shows the step that asks first."""
    confirm = request.GET.get("remove") == "confirm" or (
        request.method == "POST"
        and request.POST.get("action") == "remove_number"
        and request.POST.get("confirm") != "yes"
    )
    waiting = waiting_change(state.person) if state.mdn else None
    return {
        "number_form": form if form is not None else NumberChangeForm(state=state),
        "number_waiting": format_mdn(waiting.new_mdn) if waiting else "",
        "confirm_remove": bool(confirm and state.mdn),
        "remove_masked": mask_mdn(state.mdn) if state.mdn else "",
        "remove_lists": [item.subscription_list.name for item in state.lists if item.can_leave],
        "change_button_label": change_button_label(),
        "change_disclosure_intro": change_disclosure_intro(),
    }


def change_button_label() -> str:
    return _("Text my new number to confirm")


def change_disclosure_intro() -> str:
    """Shown above the lists' terms and stored with each one: it names the button of
    ``change_button_label`` (the same words, so one translation holds both)."""
    return _(
        "By tapping “Text my new number to confirm”, you agree to the terms of each list you chose:"
    )


def change_number(request: HttpRequest, state: PageState) -> ActionResult:
    form = NumberChangeForm(request.POST, state=state)
    if not state.mdn:
        return ActionResult(ok=False, error=_("There is no number to change."), status=400)
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
                services.number_change_request(
                    person=state.person,
                    mdn=mdn,
                    subscription_lists=[item.subscription_list for item in form.to_request],
                    source=SOURCE,
                    consents={
                        item.subscription_list.pk: consent_context(
                            request,
                            disclosure_text=f"{change_disclosure_intro()}\n{item.disclosure_text}",
                        )
                        for item in form.to_request
                    },
                )
        except LimitReached as exc:
            form.add_error(None, exc.message)
            return ActionResult(ok=False, form_name="number", form=form, status=429)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            # The same words whoever holds the number: the page never tells that a
            # number is on file with another subscriber.
            return ActionResult(
                ok=True,
                message=_(
                    "If %(number)s can receive texts, we sent it a text for each list. Reply "
                    "Y to each to move your lists to it; until then your texts keep coming "
                    "to %(old)s."
                )
                % {"number": format_mdn(mdn), "old": state.mdn_display},
            )
    return ActionResult(ok=False, form_name="number", form=form)


def remove_number(request: HttpRequest, state: PageState) -> ActionResult:
    """Only the confirmation step's button (``confirm=yes``) removes; a first press
    shows that step (``section_context``)."""
    if not state.mdn:
        return ActionResult(ok=False, error=_("There is no number to remove."), status=400)
    if request.POST.get("confirm") != "yes":
        return ActionResult(ok=False)
    ended = services.number_remove(
        person=state.person, source=SOURCE, consent=consent_context(request)
    )
    message = _("Your number %(number)s is removed. We will not text it any more.") % {
        "number": state.mdn_display
    }
    if ended:
        message = f"{message} " + _("You left: %(lists)s.") % {"lists": ", ".join(ended)}
    return ActionResult(ok=True, message=message)
