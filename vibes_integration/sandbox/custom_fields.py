"""Custom field values as Vibes checks them: defined keys only, values of the field's type.

A field whose config entry says ``"synced_to_vibes": false`` exists only in the CRM, so
the sandbox does not know it either: sending it gets the 422 Vibes gives unknown fields.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


class CustomFieldErrors(ValueError):
    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("; ".join(messages))


def defined_fields(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        entry["key"]: entry
        for entry in config.get("custom_fields", [])
        if entry.get("synced_to_vibes", True) is not False
    }


def clean_custom_fields(values: Any, fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Validated values (``None`` means "clear this field"); raises with every problem."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise CustomFieldErrors(["custom_fields must be an object of key/value pairs."])
    cleaned: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            problems.append(f"Unknown custom field: {key}")
            continue
        if value is None or value == "":
            cleaned[key] = None
            continue
        try:
            cleaned[key] = _clean(value, field)
        except ValueError as exc:
            problems.append(f"Invalid value for custom field {key}: {exc}")
    if problems:
        raise CustomFieldErrors(problems)
    return cleaned


def _clean(value: Any, field: dict[str, Any]) -> Any:
    field_type = field.get("type", "text")
    if field_type == "text":
        if isinstance(value, dict | list):
            raise ValueError("expected text")
        return str(value)
    if field_type == "number":
        if isinstance(value, bool):
            raise ValueError("expected a number")
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise ValueError("expected a number") from exc
        return int(number) if number.is_integer() else number
    if field_type == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes"):
            return True
        if str(value).lower() in ("false", "0", "no"):
            return False
        raise ValueError("expected true or false")
    if field_type == "date":
        return _clean_date(value)
    option_keys = [str(option.get("key")) for option in field.get("options", [])]
    if field_type == "choice":
        if str(value) not in option_keys:
            raise ValueError(f"{value!r} is not one of {option_keys}")
        return str(value)
    items = value if isinstance(value, list) else str(value).split(",")
    chosen = []
    for item in items:
        key = item.get("option_key") if isinstance(item, dict) else str(item).strip()
        if key not in option_keys:
            raise ValueError(f"{key!r} is not one of {option_keys}")
        if key not in chosen:
            chosen.append(key)
    return chosen


def _clean_date(value: Any) -> str:
    text = str(value).strip()
    if not _DATE.match(text):
        raise ValueError("expected a date such as 1950-12-01T00:00:00Z")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return f"{day.isoformat()}T00:00:00Z"
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError("expected a date such as 1950-12-01T00:00:00Z") from exc
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def options_as_objects(keys: list[str], field: dict[str, Any]) -> list[dict[str, str]]:
    """A multi-select value as person callbacks spell it: ``[{id, name, option_key}]``."""
    result = []
    for index, option in enumerate(field.get("options", []), start=1):
        if option.get("key") in keys:
            result.append(
                {
                    "id": str(option.get("id", index)),
                    "name": str(option.get("label", option["key"])),
                    "option_key": str(option["key"]),
                }
            )
    return result
