"""Validation and normalisation of custom field values against their definitions.

Values are stored as JSON in ``Person.custom_fields``: text as a string, number as an int
or float, date as ``YYYY-MM-DD``, yes/no as a boolean, single choice as an option key,
multiple choice as a list of option keys. ``None`` clears a value.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from crm.choices import CustomFieldType

TEXT_MAX_LENGTH = 1000


def validate_options(field_type: str, options: Any) -> None:
    if field_type not in {CustomFieldType.CHOICE, CustomFieldType.MULTIPLE_CHOICE}:
        if options:
            raise ValidationError({"options": _("Only choice fields have options.")})
        return
    if not isinstance(options, list) or not options:
        raise ValidationError({"options": _("A choice field needs at least one option.")})
    seen = set()
    for option in options:
        if not isinstance(option, dict) or not option.get("key") or not option.get("label"):
            raise ValidationError({"options": _('Each option needs a "key" and a "label".')})
        if option["key"] in seen:
            raise ValidationError(
                {"options": _("Option key %(key)s appears twice.") % {"key": option["key"]}}
            )
        seen.add(option["key"])


def _error(field, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({f"custom_fields.{field.key}": ValidationError(message, code=code)})


def _clean_number(field, value: Any) -> int | float:
    if isinstance(value, bool):
        raise _error(field, _("Enter a number."))
    if isinstance(value, int | float):
        number = value
    else:
        try:
            decimal = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise _error(field, _("Enter a number.")) from exc
        number = int(decimal) if decimal == decimal.to_integral_value() else float(decimal)
    if isinstance(number, float) and not math.isfinite(number):
        raise _error(field, _("Enter a number."))
    return number


def _clean_date(field, value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        parsed = parse_date(text[:10]) if len(text) >= 10 else None
        if parsed is None and parse_datetime(text):
            parsed = parse_datetime(text).date()
    except ValueError:
        parsed = None
    if parsed is None:
        raise _error(field, _("Enter a date as YYYY-MM-DD."))
    return parsed.isoformat()


def _clean_boolean(field, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "yes", "y", "1", "on"}:
        return True
    if text in {"false", "no", "n", "0", "off"}:
        return False
    raise _error(field, _("Choose yes or no."))


def _clean_choice(field, value: Any) -> str:
    key = str(value)
    if key not in field.option_keys:
        raise _error(field, _("%(value)s is not one of the choices.") % {"value": key})
    return key


def _clean_multiple_choice(field, value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part for part in (p.strip() for p in value.split(",")) if part]
    if not isinstance(value, Iterable):
        raise _error(field, _("Choose from the list."))
    keys = []
    for item in value:
        key = (
            str(item.get("option_key") or item.get("key")) if isinstance(item, dict) else str(item)
        )
        if key not in field.option_keys:
            raise _error(field, _("%(value)s is not one of the choices.") % {"value": key})
        if key not in keys:
            keys.append(key)
    return keys


def clean_custom_field_value(field, value: Any) -> Any:
    """Return ``value`` normalised for storage, or raise a ValidationError naming the field."""
    if value is None or value == "" or value == []:
        if field.required:
            raise _error(field, _("This field is required."), code="required")
        return None
    if field.field_type == CustomFieldType.TEXT:
        text = str(value).strip()
        if len(text) > TEXT_MAX_LENGTH:
            raise _error(field, _("Use at most %(n)d characters.") % {"n": TEXT_MAX_LENGTH})
        return text
    if field.field_type == CustomFieldType.NUMBER:
        return _clean_number(field, value)
    if field.field_type == CustomFieldType.DATE:
        return _clean_date(field, value)
    if field.field_type == CustomFieldType.BOOLEAN:
        return _clean_boolean(field, value)
    if field.field_type == CustomFieldType.CHOICE:
        return _clean_choice(field, value)
    if field.field_type == CustomFieldType.MULTIPLE_CHOICE:
        return _clean_multiple_choice(field, value)
    raise _error(field, _("Unknown field type."))


def clean_custom_field_values(
    definitions: Mapping[str, Any], values: Mapping[str, Any]
) -> dict[str, Any]:
    """Validate every value; collect all errors so a form can show each next to its field."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, list] = {}
    for key, value in values.items():
        field = definitions.get(key)
        if field is None:
            errors.setdefault(f"custom_fields.{key}", []).append(
                ValidationError(
                    _("%(key)s is not a defined custom field.") % {"key": key}, code="unknown"
                )
            )
            continue
        try:
            cleaned[key] = clean_custom_field_value(field, value)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return cleaned
