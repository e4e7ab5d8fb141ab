"""The preference page's forms: details, joining lists by text, asking for a link.

Forms shape and check input; the writes happen in ``crm.services``. Errors that only a
service can find (a number that belongs to someone else) come back through
``add_service_errors`` and land next to the field they concern.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.models import CustomField, Person
from prefcenter.preferences import custom_field_forms
from prefcenter.preferences.numbers import textable_mdn
from prefcenter.preferences.selectors import (
    SUBSCRIBED,
    ListState,
    PageState,
    disclosure_intro,
    format_mdn,
    join_button_label,
)

NAME_MAX_LENGTH = 150
NAME_ERRORS = {
    "max_length": _("Use at most %(limit_value)d characters; you typed %(show_value)d."),
}
EMAIL_ERRORS = {"invalid": _("Enter an email address like name@example.com.")}


class PreferenceForm(forms.Form):
    """Maps the field names that ``crm.services`` uses in its errors to this form's fields."""

    service_field_names: dict[str, str] = {}

    def add_service_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for key, errors in error.error_dict.items():
            name = self.service_field_names.get(key, key)
            self.add_error(name if name in self.fields else None, errors)


class DetailsForm(PreferenceForm):
    first_name = forms.CharField(
        label=_("First name"),
        max_length=NAME_MAX_LENGTH,
        required=False,
        error_messages=NAME_ERRORS,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=NAME_MAX_LENGTH,
        required=False,
        error_messages=NAME_ERRORS,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        error_messages=EMAIL_ERRORS,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(
        self, data: Any = None, *, person: Person, custom_fields: list[CustomField]
    ) -> None:
        initial: dict[str, Any] = {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
        }
        for custom_field in custom_fields:
            initial[custom_field_forms.form_field_name(custom_field)] = (
                custom_field_forms.initial_value(
                    custom_field, person.custom_fields.get(custom_field.key)
                )
            )
        super().__init__(data, initial=initial, prefix="details")
        self.custom_fields = custom_fields
        self.service_field_names = {}
        for custom_field in custom_fields:
            name = custom_field_forms.form_field_name(custom_field)
            self.fields[name] = custom_field_forms.build_form_field(custom_field)
            self.service_field_names[f"custom_fields.{custom_field.key}"] = name
        self.custom_values: dict[str, Any] = {}

    @property
    def name_fields(self) -> list[forms.BoundField]:
        return [self["first_name"], self["last_name"], self["email"]]

    @property
    def custom_field_fields(self) -> list[forms.BoundField]:
        return [self[custom_field_forms.form_field_name(f)] for f in self.custom_fields]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.custom_values = {}
        for custom_field in self.custom_fields:
            name = custom_field_forms.form_field_name(custom_field)
            if not custom_field.editable_by_subscribers or name not in cleaned:
                continue
            try:
                self.custom_values[custom_field.key] = custom_field_forms.validate_value(
                    custom_field, cleaned[name]
                )
            except ValidationError as exc:
                self.add_error(name, exc)
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``crm.services.person_update``."""
        return {
            "first_name": self.cleaned_data["first_name"],
            "last_name": self.cleaned_data["last_name"],
            "email": self.cleaned_data["email"],
            "custom_fields": dict(self.custom_values),
        }

    def label_for(self, changed_field: str) -> str:
        """The name the subscriber knows for a ``PersonChange.changed_fields`` entry."""
        if changed_field.startswith("custom_fields."):
            key = changed_field.removeprefix("custom_fields.")
            for custom_field in self.custom_fields:
                if custom_field.key == key:
                    return custom_field.label
            return key
        field = self.fields.get(changed_field)
        return str(field.label) if field is not None else changed_field


class OptInForm(PreferenceForm):
    """A number and the lists it should join; each list confirms by a text to the number."""

    mdn = forms.CharField(
        label=_("Mobile number"),
        max_length=40,
        error_messages={"required": _("Enter your mobile number.")},
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    lists = forms.MultipleChoiceField(
        label=_("Lists to join"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one list to get texts from."),
            "invalid_choice": _("Choose from the lists shown."),
        },
    )
    service_field_names = {"mdn": "mdn", "subscription_lists": "lists"}

    def __init__(
        self, data: Any = None, *, state: PageState, preselected: list[str] | None = None
    ) -> None:
        initial_mdn = format_mdn(state.pending_mdns[0] if state.pending_mdns else state.mdn)
        super().__init__(
            data,
            initial={"mdn": initial_mdn, "lists": preselected or []},
            prefix="optin",
        )
        self.state = state
        self.joinable = state.joinable_lists
        self.fields["lists"].choices = [
            (list_state.subscription_list.list_id, list_state.subscription_list.name)
            for list_state in self.joinable
        ]
        self.to_request: list[ListState] = []
        self.awaiting: list[ListState] = []

    @property
    def button_label(self) -> str:
        return join_button_label()

    @property
    def disclosure_intro(self) -> str:
        return disclosure_intro()

    @property
    def list_options(self) -> list[tuple[forms.boundfield.BoundWidget, ListState]]:
        """Each list's checkbox with its state, for a label that says where the person is."""
        return list(zip(self["lists"], self.joinable, strict=True))

    def clean_mdn(self) -> str:
        return textable_mdn(self.cleaned_data["mdn"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        chosen_ids = cleaned.get("lists") or []
        chosen = [s for s in self.joinable if s.subscription_list.list_id in chosen_ids]
        changed_terms = [
            s.subscription_list.name
            for s in chosen
            if self.data.get(f"disclosure_{s.subscription_list.list_id}") != s.disclosure_digest
        ]
        if changed_terms:
            self.add_error(
                "lists",
                _("The terms for %(names)s changed. Please read them again, then send.")
                % {"names": ", ".join(changed_terms)},
            )
            return cleaned
        mdn = cleaned.get("mdn")
        if not mdn or not chosen:
            return cleaned
        if self.prefix == "optin" and self.state.mdn and mdn != self.state.mdn:
            # Vibes gives a person one number: another one is a change of number.
            self.add_error(
                "mdn",
                _("To get texts at another number, use “Change your number” above."),
            )
            return cleaned
        self.to_request, self.awaiting = [], []
        for list_state in chosen:
            if list_state.status == SUBSCRIBED and mdn == self.state.mdn:
                continue
            request = list_state.open_request
            if request is not None and str(request.mdn) == mdn:
                self.awaiting.append(list_state)
            else:
                self.to_request.append(list_state)
        if not self.to_request and not self.awaiting:
            self.add_error("lists", _("You already get texts from these lists at this number."))
        return cleaned


class LinkRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        error_messages={
            "required": _("Enter the email address you use with us."),
            "invalid": _("Enter an email address like name@example.com."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
