"""Builds the POST data a browser would send for an admin change form as it is shown."""

from __future__ import annotations

from typing import Any

from django import forms


def _browser_value(field: forms.Field, value: Any) -> Any:
    if isinstance(field, forms.NullBooleanField):
        return {True: "true", False: "false"}.get(value, "unknown")
    if isinstance(field, forms.BooleanField):
        return "on" if value else ""
    if isinstance(field, forms.ModelMultipleChoiceField):
        return [str(getattr(item, "pk", item)) for item in value or []]
    if isinstance(field, forms.MultipleChoiceField):
        return [str(item) for item in value or []]
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    if isinstance(field, forms.ModelChoiceField) and hasattr(value, "pk"):
        return str(value.pk)
    return str(value)


def _form_values(form: forms.BaseForm) -> dict[str, Any]:
    data = {}
    for name, field in form.fields.items():
        value = _browser_value(field, form[name].value())
        if isinstance(field, forms.BooleanField) and value == "":
            continue
        data[form.add_prefix(name)] = value
    return data


def change_form_data(page) -> dict[str, Any]:
    """The fields of the admin page ``page`` (a test client response) with their values."""
    data = _form_values(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_values(formset.management_form))
        for form in formset.forms:
            data.update(_form_values(form))
    return data
