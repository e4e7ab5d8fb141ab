"""One form field per subscriber-visible custom field, with the control that fits its type.

The form fields only shape the input (which control, what the browser offers); the values
are then checked by ``crm.custom_fields`` so that the page, the admin and the API share one
set of rules. Numbers are typed into a text input with a numeric keyboard rather than
``type=number``: browsers silently empty a number input that holds something invalid, and
the subscriber must get their own text back with an error next to it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.choices import CustomFieldType
from crm.custom_fields import clean_custom_field_value
from crm.models import CustomField

FIELD_PREFIX = "cf_"
RADIO_MAX_OPTIONS = 5
YES, NO = "yes", "no"


def form_field_name(custom_field: CustomField) -> str:
    return f"{FIELD_PREFIX}{custom_field.key}"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _choices(custom_field: CustomField, *, with_empty: bool) -> list[tuple[str, str]]:
    choices = [(option["key"], option["label"]) for option in custom_field.options or []]
    if with_empty:
        choices.append(("", _("No answer")))
    return choices


def _messages(common: dict[str, Any], **messages: Any) -> dict[str, Any]:
    """``common`` with some of its error messages replaced by ones the control needs."""
    return {**common, "error_messages": {**common["error_messages"], **messages}}


def build_form_field(custom_field: CustomField) -> forms.Field:
    """The Django form field for ``custom_field``; disabled when subscribers may not edit it."""
    common = _common_options(custom_field)
    build = _BUILDERS.get(custom_field.field_type)
    if build is None:
        # The length limits come from the definition and are checked by
        # ``crm.custom_fields``, whose message says how many characters were typed and how
        # many fit.
        return forms.CharField(**common)
    return build(custom_field, common)


def _common_options(custom_field: CustomField) -> dict[str, Any]:
    """What every control shares: label, help, whether it is required or disabled, and the
    messages for a missing answer and an unknown choice."""
    editable = custom_field.editable_by_subscribers
    return {
        "label": custom_field.label,
        "help_text": custom_field.help_text,
        # A field the subscriber cannot change must not stop them saving the rest.
        "required": custom_field.required and editable,
        "disabled": not editable,
        "error_messages": {
            "required": _("Fill in %(label)s.") % {"label": custom_field.label},
            "invalid_choice": _("Choose one of the options shown."),
        },
    }


def _number_field(custom_field: CustomField, common: dict[str, Any]) -> forms.Field:
    # No max_length here: ``crm.custom_fields`` answers every wrong number with the
    # range to type, where Django's own length message would say nothing useful.
    inputmode = "numeric" if custom_field.whole_numbers_only else "decimal"
    return forms.CharField(
        widget=forms.TextInput(attrs={"inputmode": inputmode, "autocomplete": "off"}),
        **common,
    )


def _date_field(custom_field: CustomField, common: dict[str, Any]) -> forms.Field:
    return forms.DateField(
        widget=DateInput(),
        input_formats=["%Y-%m-%d"],
        **_messages(common, invalid=_("Enter a date as YYYY-MM-DD, like 1990-04-25.")),
    )


def _boolean_field(custom_field: CustomField, common: dict[str, Any]) -> forms.Field:
    choices = [(YES, _("Yes")), (NO, _("No"))]
    if not custom_field.required:
        choices.append(("", _("No answer")))
    return forms.ChoiceField(
        choices=choices,
        widget=forms.RadioSelect,
        **_messages(common, required=_("Choose yes or no."), invalid_choice=_("Choose yes or no.")),
    )


def _choice_field(custom_field: CustomField, common: dict[str, Any]) -> forms.Field:
    """Radio buttons for a few options, a drop-down for more."""
    few = len(custom_field.options or []) <= RADIO_MAX_OPTIONS
    if few:
        return forms.ChoiceField(
            choices=_choices(custom_field, with_empty=not custom_field.required),
            widget=forms.RadioSelect,
            **_messages(common, required=_("Choose one of the options.")),
        )
    return forms.ChoiceField(
        choices=[("", _("Choose…")), *_choices(custom_field, with_empty=False)],
        **_messages(common, required=_("Choose one of the options.")),
    )


def _multiple_choice_field(custom_field: CustomField, common: dict[str, Any]) -> forms.Field:
    return forms.MultipleChoiceField(
        choices=_choices(custom_field, with_empty=False),
        widget=forms.CheckboxSelectMultiple,
        **_messages(common, required=_("Choose at least one option.")),
    )


_BUILDERS: dict[str, Callable[[CustomField, dict[str, Any]], forms.Field]] = {
    CustomFieldType.NUMBER: _number_field,
    CustomFieldType.DATE: _date_field,
    CustomFieldType.BOOLEAN: _boolean_field,
    CustomFieldType.CHOICE: _choice_field,
    CustomFieldType.MULTIPLE_CHOICE: _multiple_choice_field,
}


def initial_value(custom_field: CustomField, stored: Any) -> Any:
    """The stored JSON value as the form field expects it."""
    if stored is None:
        return [] if custom_field.field_type == CustomFieldType.MULTIPLE_CHOICE else None
    if custom_field.field_type == CustomFieldType.BOOLEAN:
        return YES if stored is True else NO if stored is False else None
    if custom_field.field_type == CustomFieldType.NUMBER:
        return str(stored)
    return stored


def to_service_value(custom_field: CustomField, cleaned: Any) -> Any:
    """The form's cleaned value as ``crm.services.person_update`` takes it (None clears)."""
    if cleaned in (None, "", []):
        return None
    if custom_field.field_type == CustomFieldType.BOOLEAN:
        return cleaned == YES
    if custom_field.field_type == CustomFieldType.DATE:
        return cleaned.isoformat()
    return cleaned


def validate_value(custom_field: CustomField, cleaned: Any) -> Any:
    """Apply the CRM's rules for this field; raise ``ValidationError`` with plain messages."""
    value = to_service_value(custom_field, cleaned)
    try:
        clean_custom_field_value(custom_field, value)
    except ValidationError as exc:
        raise ValidationError(
            [message for messages in exc.message_dict.values() for message in messages]
        ) from exc
    return value
