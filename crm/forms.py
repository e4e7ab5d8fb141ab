"""Forms for staff: the person form with one widget per custom field type.

The custom fields are defined at run time (``CustomField`` rows mirror Vibes), so the
person form class is built for the current definitions by ``person_form_class``. Values
are validated by ``crm.custom_fields`` (the same rules the services apply) and saved by
``crm.services``, never by the form itself.

A mobile number is only the person's once its owner has confirmed it (a legal requirement
of SMS marketing): a new number entered by staff is not written to the person but sent to
Vibes' web double opt-in for the lists chosen on the form, and a "subscribed" chosen on a
subscription row asks the person's confirmed number to confirm in the same way.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.choices import CustomFieldType, SubscriptionState
from crm.custom_fields import clean_custom_field_values
from crm.models import CustomField, Person, Subscription, SubscriptionList

CUSTOM_FIELD_PREFIX = "custom__"
PERSON_FIELDS = ("external_person_id", "first_name", "last_name", "email", "mdn")


def custom_field_form_name(custom_field: CustomField) -> str:
    return f"{CUSTOM_FIELD_PREFIX}{custom_field.key}"


def custom_field_formfield(custom_field: CustomField) -> forms.Field:
    """A form field and widget that suit the custom field's type."""
    common: dict[str, Any] = {
        "label": custom_field.label,
        "required": custom_field.required,
        "help_text": custom_field.help_text,
    }
    options = [(option["key"], option["label"]) for option in custom_field.options or []]
    field_type = custom_field.field_type
    if field_type == CustomFieldType.NUMBER:
        return forms.DecimalField(**common)
    if field_type == CustomFieldType.DATE:
        return forms.DateField(widget=AdminDateWidget, **common)
    if field_type == CustomFieldType.BOOLEAN:
        # Three states: a value nobody gave is neither yes nor no.
        return forms.NullBooleanField(widget=forms.NullBooleanSelect, **common)
    if field_type == CustomFieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "---------"), *options], **common)
    if field_type == CustomFieldType.MULTIPLE_CHOICE:
        return forms.MultipleChoiceField(
            choices=options, widget=forms.CheckboxSelectMultiple, **common
        )
    return forms.CharField(max_length=1000, **common)


def _to_service_value(value: Any) -> Any:
    """The form's cleaned value as the services take it; an empty value clears."""
    if value in ("", [], None):
        return None
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


class OptInListsField(forms.ModelMultipleChoiceField):
    """The lists a number is asked to join; a list without acquisition campaign says so."""

    def label_from_instance(self, obj: SubscriptionList) -> str:
        if obj.acquisition_campaign_id:
            return obj.name
        return _("%(name)s (no acquisition campaign: cannot be joined by text)") % {
            "name": obj.name
        }


class PersonForm(forms.ModelForm):
    """The person's own columns plus one field per custom field definition."""

    custom_field_definitions: tuple[CustomField, ...] = ()
    #: Errors the services raised for this very input on the previous attempt to save it
    #: (``(field name or None, message)``); shown on the form so that nothing is lost.
    service_errors: tuple[tuple[str | None, str], ...] = ()

    opt_in_lists = OptInListsField(
        queryset=SubscriptionList.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Lists to join by text confirmation"),
        help_text=_(
            "Required with a new mobile number. Vibes texts the number from each list's "
            "acquisition campaign; the number becomes the person's, and the lists theirs, "
            "only when they reply Y. Until then the subscriptions show pending."
        ),
    )

    class Meta:
        model = Person
        fields = PERSON_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The number the person confirmed (the one stored); a different one is only asked.
        self.confirmed_mdn = str(self.instance.mdn) if self.instance.mdn else None
        self.fields["opt_in_lists"].queryset = SubscriptionList.objects.order_by("order", "name")
        if self.instance.pk and "mdn" in self.fields:
            self.fields["mdn"].help_text = _(
                "A new number is kept only once its owner confirms it by text (choose the "
                "lists below). Clearing the field removes the number at once."
            )
        stored = self.instance.custom_fields or {}
        for custom_field in self.custom_field_definitions:
            name = custom_field_form_name(custom_field)
            if name in self.fields and custom_field.key in stored:
                self.initial.setdefault(name, stored[custom_field.key])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        definitions = {f.key: f for f in self.custom_field_definitions}
        values = {
            custom_field.key: _to_service_value(cleaned.get(custom_field_form_name(custom_field)))
            for custom_field in self.custom_field_definitions
            if custom_field_form_name(custom_field) in cleaned
        }
        try:
            self.cleaned_custom_fields = clean_custom_field_values(definitions, values)
        except ValidationError as exc:
            self.cleaned_custom_fields = {}
            for key, messages in exc.message_dict.items():
                name = CUSTOM_FIELD_PREFIX + key.removeprefix("custom_fields.")
                self.add_error(name if name in self.fields else None, messages)
        self._clean_opt_in(cleaned)
        for field, message in self.service_errors:
            self.add_error(field if field in self.fields else None, message)
        return cleaned

    def _clean_opt_in(self, cleaned: dict[str, Any]) -> None:
        """A new number needs lists to confirm it for; chosen lists need a number to text."""
        if "mdn" in self.errors:
            return
        lists = list(cleaned.get("opt_in_lists") or [])
        number = self.posted_mdn
        if not lists:
            if self.instance.pk and number and number != self.confirmed_mdn:
                self.add_error(
                    "opt_in_lists",
                    _(
                        "Choose the lists this number joins: a new number is confirmed by "
                        "a text from each list's acquisition campaign before it is kept."
                    ),
                )
            return
        if not number:
            self.add_error(
                "opt_in_lists", _("Enter the mobile number that the confirmation text goes to.")
            )
        without_campaign = [sl.name for sl in lists if not sl.acquisition_campaign_id]
        if without_campaign:
            self.add_error(
                "opt_in_lists",
                _(
                    "These lists have no acquisition campaign, so a number cannot join them "
                    "by text: %(names)s."
                )
                % {"names": ", ".join(without_campaign)},
            )

    @property
    def posted_mdn(self) -> str | None:
        """The number in the form, in E.164, or None when the field is empty."""
        value = getattr(self, "cleaned_data", {}).get("mdn")
        return str(value) if value else None

    @property
    def opt_in_lists_chosen(self) -> list[SubscriptionList]:
        return list(self.cleaned_data.get("opt_in_lists") or [])

    @property
    def number_awaits_confirmation(self) -> bool:
        """Whether the person's stored number stays as it is until Vibes confirms the new one.

        A person created here takes the number given at once (an import of a number the
        brand already knows); an existing person's new number must be confirmed first.
        """
        number = self.posted_mdn
        return bool(self.instance.pk and number and number != self.confirmed_mdn)

    def service_arguments(self, *, changed_only: bool) -> dict[str, Any]:
        """Keyword arguments for ``services.person_create`` / ``person_update``."""
        arguments = {
            name: self.cleaned_data[name]
            for name in PERSON_FIELDS
            if name in self.cleaned_data and (not changed_only or name in self.changed_data)
        }
        if "mdn" in arguments:
            arguments["mdn"] = str(arguments["mdn"]) if arguments["mdn"] else None
            if changed_only and self.number_awaits_confirmation:
                del arguments["mdn"]
        custom_fields = {
            key: value
            for key, value in self.cleaned_custom_fields.items()
            if not changed_only or CUSTOM_FIELD_PREFIX + key in self.changed_data
        }
        if custom_fields:
            arguments["custom_fields"] = custom_fields
        return arguments


def person_form_class(
    custom_fields: Iterable[CustomField],
    service_errors: Iterable[tuple[str | None, str]] = (),
) -> type[PersonForm]:
    """A ``PersonForm`` subclass that declares a field for each of ``custom_fields``.

    ``service_errors`` are shown on the form: what the services refused when this input
    was saved (the save was rolled back as a whole).
    """
    definitions = tuple(custom_fields)
    attributes: dict[str, Any] = {
        custom_field_form_name(custom_field): custom_field_formfield(custom_field)
        for custom_field in definitions
    }
    attributes["custom_field_definitions"] = definitions
    attributes["service_errors"] = tuple(service_errors)
    attributes["__module__"] = __name__
    return type("PersonFormWithCustomFields", (PersonForm,), attributes)


class SubscriptionInlineForm(forms.ModelForm):
    """A staff member's change to one subscription.

    "Not subscribed" ends the subscription at once (``services.subscription_leave``, which
    also withdraws an open opt-in). "Subscribed" cannot be given by staff: only the owner
    of a number can consent to texts, so it starts a web double opt-in of the person's
    confirmed number (``services.opt_in_request``) and the row shows pending until they
    reply Y. "Pending" is never chosen by hand.
    """

    class Meta:
        model = Subscription
        fields = ("subscription_list", "state", "opt_out_reason")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].help_text = _(
            "Subscribed sends a confirmation text to the person's number; the row shows "
            "pending until they reply Y. Not subscribed ends the subscription at once."
        )

    @property
    def starts_opt_in(self) -> bool:
        """Whether saving this row asks the person's number to confirm a subscription."""
        return (
            self.has_changed()
            and self.cleaned_data.get("state") == SubscriptionState.SUBSCRIBED
            and self.initial.get("state") != SubscriptionState.SUBSCRIBED
        )

    def _confirmed_mdn(self) -> str | None:
        """The person's number as stored: the page's form may hold a new, unconfirmed one.

        A person created on this page has no stored row yet; the number given with them is
        theirs from the start (see ``PersonForm.number_awaits_confirmation``).
        """
        parent = self.fields.get("person")
        person = getattr(parent, "parent_instance", None)  # set by the inline formset
        if person is None:
            return None
        if person.pk:
            stored = Person.objects.filter(pk=person.pk).values_list("mdn", flat=True).first()
            return str(stored) if stored else None
        return str(person.mdn) if person.mdn else None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        instance = self.instance
        if (
            instance.pk
            and "subscription_list" in self.changed_data
            and cleaned.get("subscription_list") is not None
        ):
            self.add_error(
                "subscription_list",
                _("A subscription stays on its list; add a new row for another list."),
            )
        state = cleaned.get("state")
        if state == SubscriptionState.PENDING and "state" in self.changed_data:
            self.add_error(
                "state",
                _("Pending is set by a web opt-in; choose subscribed or not subscribed."),
            )
        if cleaned.get("opt_out_reason") and state != SubscriptionState.UNSUBSCRIBED:
            self.add_error(
                "opt_out_reason", _("Only a subscription that ends has an opt-out reason.")
            )
        if not self.errors and self.starts_opt_in:
            self._clean_opt_in(cleaned.get("subscription_list"))
        return cleaned

    def _clean_opt_in(self, subscription_list: SubscriptionList | None) -> None:
        if subscription_list is not None and not subscription_list.acquisition_campaign_id:
            self.add_error(
                "state",
                _("%(name)s has no acquisition campaign, so a number cannot join it by text.")
                % {"name": subscription_list.name},
            )
        if not self._confirmed_mdn():
            self.add_error(
                "state",
                _(
                    "Add a mobile number first: subscribing sends a confirmation text to the "
                    "person's number."
                ),
            )
