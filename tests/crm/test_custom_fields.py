"""Custom field values are validated and normalised per type."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from crm.choices import CustomFieldType
from crm.custom_fields import clean_custom_field_value, validate_options
from crm.models import CustomField

OPTIONS = [{"key": "red", "label": "Red"}, {"key": "blue", "label": "Blue"}]


def field(field_type, **kwargs):
    return CustomField(key="f", label="F", field_type=field_type, **kwargs)


@pytest.mark.parametrize(
    ("field_type", "value", "expected"),
    [
        (CustomFieldType.TEXT, "  hi ", "hi"),
        (CustomFieldType.NUMBER, "42", 42),
        (CustomFieldType.NUMBER, "9.5", 9.5),
        (CustomFieldType.NUMBER, 3, 3),
        (CustomFieldType.DATE, "1990-05-01", "1990-05-01"),
        (CustomFieldType.DATE, "1950-12-01T00:00:00Z", "1950-12-01"),
        (CustomFieldType.DATE, datetime.date(2000, 1, 2), "2000-01-02"),
        (CustomFieldType.BOOLEAN, "yes", True),
        (CustomFieldType.BOOLEAN, False, False),
        (CustomFieldType.CHOICE, "red", "red"),
        (CustomFieldType.MULTIPLE_CHOICE, "red, blue", ["red", "blue"]),
        (CustomFieldType.MULTIPLE_CHOICE, [{"option_key": "blue"}], ["blue"]),
        (CustomFieldType.TEXT, "", None),
    ],
)
def test_values_are_normalised(field_type, value, expected):
    assert clean_custom_field_value(field(field_type, options=OPTIONS), value) == expected


@pytest.mark.parametrize(
    ("field_type", "value"),
    [
        (CustomFieldType.TEXT, "x" * 1001),
        (CustomFieldType.NUMBER, "many"),
        (CustomFieldType.NUMBER, True),
        (CustomFieldType.NUMBER, "nan"),
        (CustomFieldType.DATE, "next week"),
        (CustomFieldType.BOOLEAN, "perhaps"),
        (CustomFieldType.CHOICE, "green"),
        (CustomFieldType.MULTIPLE_CHOICE, ["red", "green"]),
    ],
)
def test_bad_values_name_the_field(field_type, value):
    with pytest.raises(ValidationError) as caught:
        clean_custom_field_value(field(field_type, options=OPTIONS), value)
    assert "custom_fields.f" in caught.value.message_dict


def test_a_required_field_cannot_be_cleared():
    with pytest.raises(ValidationError):
        clean_custom_field_value(field(CustomFieldType.TEXT, required=True), "")


@pytest.mark.parametrize(
    ("field_type", "options"),
    [
        (CustomFieldType.CHOICE, []),
        (CustomFieldType.CHOICE, [{"key": "a"}]),
        (CustomFieldType.MULTIPLE_CHOICE, [{"key": "a", "label": "A"}, {"key": "a", "label": "B"}]),
        (CustomFieldType.TEXT, OPTIONS),
    ],
)
def test_bad_option_lists_are_refused(field_type, options):
    with pytest.raises(ValidationError) as caught:
        validate_options(field_type, options)
    assert "options" in caught.value.message_dict
