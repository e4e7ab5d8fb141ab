"""Forms for staff: the person form with one widget per custom field type.

The custom fields are defined at run time (``CustomField`` rows mirror Vibes), so the
person form class is built for the current definitions by ``person_form_class``. Values
are validated by ``crm.custom_fields`` (the same rules the services apply) and saved by
``crm.services``, never by the form itself.
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
from crm.models import CustomField, Person, Subscription

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


class PersonForm(forms.ModelForm):
    """The person's own columns plus one field per custom field definition."""

    custom_field_definitions: tuple[CustomField, ...] = ()

    class Meta:
        model = Person
        fields = PERSON_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
        return cleaned

    def service_arguments(self, *, changed_only: bool) -> dict[str, Any]:
        """Keyword arguments for ``services.person_create`` / ``person_update``."""
        arguments = {
            name: self.cleaned_data[name]
            for name in PERSON_FIELDS
            if name in self.cleaned_data and (not changed_only or name in self.changed_data)
        }
        if "mdn" in arguments:
            arguments["mdn"] = str(arguments["mdn"]) if arguments["mdn"] else None
        custom_fields = {
            key: value
            for key, value in self.cleaned_custom_fields.items()
            if not changed_only or CUSTOM_FIELD_PREFIX + key in self.changed_data
        }
        if custom_fields:
            arguments["custom_fields"] = custom_fields
        return arguments


def person_form_class(custom_fields: Iterable[CustomField]) -> type[PersonForm]:
    """A ``PersonForm`` subclass that declares a field for each of ``custom_fields``."""
    definitions = tuple(custom_fields)
    attributes: dict[str, Any] = {
        custom_field_form_name(custom_field): custom_field_formfield(custom_field)
        for custom_field in definitions
    }
    attributes["custom_field_definitions"] = definitions
    attributes["__module__"] = __name__
    return type("PersonFormWithCustomFields", (PersonForm,), attributes)


class SubscriptionInlineForm(forms.ModelForm):
    """A staff member's change to one subscription, applied by ``services.subscription_change``.

    Staff may subscribe or unsubscribe (a consent given or withdrawn outside the
    preference center); "pending" belongs to the web double opt-in and is never set by hand.
    """

    class Meta:
        model = Subscription
        fields = ("subscription_list", "state", "opt_out_reason")

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
        return cleaned
