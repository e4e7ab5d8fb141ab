"""Saving a person's page: every change through ``crm.services``, consent asked of the number.

Staff cannot give consent on a subscriber's behalf. A new number for an existing person,
and a "subscribed" chosen on a subscription row, start Vibes' web double opt-in
(``services.opt_in_request``): the subscriptions show pending, and the number becomes the
person's and the lists theirs only when the callbacks report that the owner replied Y.

Whatever the services refuse (a number another person took meanwhile, a list that lost
its acquisition campaign) raises ``ServiceRejected``; the admin then rolls the whole save
back and shows the same input again with the reasons (see ``PersonAdmin.changeform_view``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from crm import services
from crm.choices import Source, SubscriptionState
from crm.forms import PersonForm
from crm.models import Person, Subscription, SubscriptionList
from crm.phone import mask_mdn

ServiceError = tuple[str | None, str]


class ServiceRejected(Exception):
    """The services refused part of a save; ``errors`` are ``(form field or None, message)``."""

    def __init__(self, errors: list[ServiceError]) -> None:
        super().__init__("; ".join(message for _field, message in errors))
        self.errors = errors


@dataclass(frozen=True)
class OptInNotice:
    """A confirmation text started by this save, told to the staff member afterwards."""

    mdn: str
    lists: tuple[str, ...]
    new_number: bool

    @property
    def text(self) -> str:
        if self.new_number:
            return _(
                "A confirmation text goes to %(number)s; the number becomes theirs when they "
                "reply Y."
            ) % {"number": mask_mdn(self.mdn)}
        return _(
            "A confirmation text goes to %(number)s for %(lists)s; the subscriptions show "
            "pending until they reply Y."
        ) % {"number": mask_mdn(self.mdn), "lists": ", ".join(self.lists)}


def staff_consent(request: HttpRequest) -> services.ConsentContext:
    """How a staff member's change is recorded in the consent ledger."""
    return services.ConsentContext(
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=request.headers.get("User-Agent", ""),
        reference=f"staff:{request.user.get_username()}",
    )


def _errors(exc: ValidationError, fields: object, label: str = "") -> list[ServiceError]:
    prefix = f"{label}: " if label else ""
    if not hasattr(exc, "error_dict"):
        return [(None, prefix + message) for message in exc.messages]
    errors: list[ServiceError] = []
    for key, messages_of_key in exc.message_dict.items():
        field = key if not label and key in fields else None
        errors.extend((field, prefix + message) for message in messages_of_key)
    return errors


def _notices(request: HttpRequest) -> list[OptInNotice]:
    if not hasattr(request, "_crm_opt_in_notices"):
        request._crm_opt_in_notices = []
    return request._crm_opt_in_notices


def save_person(request: HttpRequest, form: PersonForm, *, change: bool) -> Person:
    """Write the person form: its fields, and the opt-in of the number to the chosen lists.

    An existing person's new number is not written: it is asked to confirm (Add
    Participant) and the callbacks make it theirs. Clearing the number removes it at once.
    A person created here takes the number given (one the brand already knows).
    """
    try:
        if change:
            person = services.person_update(
                person=form.instance,
                source=Source.STAFF,
                **form.service_arguments(changed_only=True),
            ).person
        else:
            person = services.person_create(
                source=Source.STAFF, **form.service_arguments(changed_only=False)
            )
        lists = form.opt_in_lists_chosen
        if lists and change and person.mdn and form.posted_mdn != str(person.mdn):
            # A confirmed number is replaced through a change of number (docs/preferences.md).
            services.number_change_request(
                person=person,
                mdn=form.posted_mdn,
                subscription_lists=lists,
                source=Source.STAFF,
                consent=staff_consent(request),
                refuse_taken=True,
            )
        elif lists:
            services.opt_in_request(
                person=person,
                mdn=form.posted_mdn,
                subscription_lists=lists,
                source=Source.STAFF,
                consent=staff_consent(request),
            )
    except ValidationError as exc:
        raise ServiceRejected(_errors(exc, form.fields)) from exc
    if lists:
        _notices(request).append(
            OptInNotice(
                mdn=form.posted_mdn,
                lists=tuple(sl.name for sl in lists),
                new_number=form.number_awaits_confirmation,
            )
        )
    return person


def save_subscriptions(request: HttpRequest, form: PersonForm, formset: BaseInlineFormSet) -> None:
    """Apply the subscription rows: leave at once, or ask the confirmed number to join."""
    person = form.instance
    consent = staff_consent(request)
    joined_on_form = {sl.pk for sl in form.opt_in_lists_chosen}
    asked: list[SubscriptionList] = []
    formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
    for inline_form in formset.forms:
        if not inline_form.has_changed():
            continue
        subscription_list = inline_form.cleaned_data["subscription_list"]
        try:
            if inline_form.starts_opt_in:
                # A list chosen with the number on the form is already being asked.
                if subscription_list.pk not in joined_on_form:
                    services.opt_in_request(
                        person=person,
                        mdn=str(person.mdn),
                        subscription_lists=[subscription_list],
                        source=Source.STAFF,
                        consent=consent,
                    )
                    asked.append(subscription_list)
            elif inline_form.cleaned_data["state"] == SubscriptionState.UNSUBSCRIBED:
                services.subscription_leave(
                    person=person,
                    subscription_list=subscription_list,
                    source=Source.STAFF,
                    consent=consent,
                    opt_out_reason=inline_form.cleaned_data.get("opt_out_reason") or "",
                )
        except ValidationError as exc:
            raise ServiceRejected(_errors(exc, (), label=subscription_list.name)) from exc
        subscription = Subscription.objects.filter(
            person=person, subscription_list=subscription_list
        ).first()
        if subscription is None:
            continue
        if inline_form.instance.pk is None:
            formset.new_objects.append(subscription)
        else:
            formset.changed_objects.append((subscription, inline_form.changed_data))
    if asked:
        _notices(request).append(
            OptInNotice(mdn=str(person.mdn), lists=tuple(sl.name for sl in asked), new_number=False)
        )


def announce_opt_ins(request: HttpRequest) -> bool:
    """Tell the staff member which confirmation texts this save started; answers whether any."""
    notices = _notices(request)
    for notice in notices:
        messages.info(request, notice.text)
    return bool(notices)
