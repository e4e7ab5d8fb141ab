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


def validate_limits(field) -> None:
    """The limits staff set on a custom field must fit its type and each other."""
    number = field.field_type == CustomFieldType.NUMBER
    text = field.field_type == CustomFieldType.TEXT
    errors: dict[str, str] = {}
    if not number:
        for name in ("min_value", "max_value"):
            if getattr(field, name, None) is not None:
                errors[name] = _("Only number fields have a smallest or largest number.")
        if getattr(field, "whole_numbers_only", False):
            errors["whole_numbers_only"] = _("Only number fields can ask for whole numbers.")
    if not text:
        for name in ("min_length", "max_length"):
            if getattr(field, name, None) is not None:
                errors[name] = _("Only text fields have a shortest or longest length.")
    low, high = getattr(field, "min_value", None), getattr(field, "max_value", None)
    if low is not None and high is not None and low > high:
        errors["max_value"] = _("The largest number must not be smaller than the smallest.")
    shortest, longest = getattr(field, "min_length", None), getattr(field, "max_length", None)
    if longest is not None and longest > TEXT_MAX_LENGTH:
        errors["max_length"] = _("Text fields hold at most %(n)d characters.") % {
            "n": TEXT_MAX_LENGTH
        }
    elif longest is not None and longest < 1:
        errors["max_length"] = _("The longest text must be at least 1 character.")
    elif shortest is not None and longest is not None and shortest > longest:
        errors["max_length"] = _("The longest text must not be shorter than the shortest.")
    if errors:
        raise ValidationError(errors)


def _plain(number: Any) -> str:
    """``Decimal("20.000000")`` → ``20``, ``Decimal("2.50")`` → ``2.5``: as people write it."""
    decimal = Decimal(str(number))
    if decimal == decimal.to_integral_value():
        return str(int(decimal))
    return format(decimal.normalize(), "f")


def _range_message(field) -> str:
    low, high = getattr(field, "min_value", None), getattr(field, "max_value", None)
    whole = getattr(field, "whole_numbers_only", False)
    kind = _("a whole number") if whole else _("a number")
    if low is not None and high is not None:
        return _("Enter %(kind)s from %(low)s to %(high)s, like %(example)s.") % {
            "kind": kind,
            "low": _plain(low),
            "high": _plain(high),
            "example": _plain(low),
        }
    if low is not None:
        return _("Enter %(kind)s of %(low)s or more, like %(example)s.") % {
            "kind": kind,
            "low": _plain(low),
            "example": _plain(low),
        }
    if high is not None:
        return _("Enter %(kind)s of %(high)s or less, like %(example)s.") % {
            "kind": kind,
            "high": _plain(high),
            "example": _plain(high),
        }
    return _("Enter %(kind)s using digits only, like 3.") % {"kind": kind}


def _check_number_limits(field, number: int | float) -> None:
    low, high = getattr(field, "min_value", None), getattr(field, "max_value", None)
    whole = getattr(field, "whole_numbers_only", False)
    if whole and isinstance(number, float):
        raise _error(field, _range_message(field))
    value = Decimal(str(number))
    if (low is not None and value < low) or (high is not None and value > high):
        raise _error(field, _range_message(field), code="out_of_range")


def _clean_text(field, value: Any) -> str:
    text = str(value).strip()
    longest = getattr(field, "max_length", None) or TEXT_MAX_LENGTH
    shortest = getattr(field, "min_length", None)
    if len(text) > longest:
        raise _error(
            field,
            _("Use at most %(n)d characters; you typed %(typed)d.")
            % {"n": longest, "typed": len(text)},
            code="max_length",
        )
    if shortest and len(text) < shortest:
        raise _error(
            field,
            _("Use at least %(n)d characters; you typed %(typed)d.")
            % {"n": shortest, "typed": len(text)},
            code="min_length",
        )
    return text


def _error(field, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({f"custom_fields.{field.key}": ValidationError(message, code=code)})


def _clean_number(field, value: Any) -> int | float:
    if isinstance(value, bool):
        raise _error(field, _range_message(field))
    if isinstance(value, int | float):
        number = value
    else:
        try:
            decimal = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise _error(field, _range_message(field)) from exc
        number = int(decimal) if decimal == decimal.to_integral_value() else float(decimal)
    if isinstance(number, float) and not math.isfinite(number):
        raise _error(field, _range_message(field))
    _check_number_limits(field, number)
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
            raise _error(field, _("Fill in %(label)s.") % {"label": field.label}, code="required")
        return None
    if field.field_type == CustomFieldType.TEXT:
        return _clean_text(field, value)
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
