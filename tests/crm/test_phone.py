"""Phone numbers: what staff and subscribers type, stored as E.164, shown masked."""

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from phonenumber_field.phonenumber import to_python

from crm.phone import mask_mdn, mdn_from_input, mdn_text, try_parse_mdn
from prefcenter.phone_numbers import InvalidMdn, parse_mdn


@pytest.mark.parametrize(
    "raw", ["(201) 555-0123", "201.555.0123", "+1 201 555 0123", "2015550123", "1-201-555-0123"]
)
def test_parse_accepts_common_formats(raw):
    assert mdn_from_input(raw) == "+12015550123"


@pytest.mark.parametrize("raw", ["", "hello", "555", "+1 299 555 1234"])
def test_parse_refuses_what_cannot_be_a_real_number(raw):
    with pytest.raises(ValidationError):
        mdn_from_input(raw)


@pytest.mark.parametrize("raw", ["(299) 555-1234", "299.555.1234", "+1 299 555 1234"])
def test_search_parsing_is_lenient(raw):
    # 299 is not a real area code, but a search must find whatever was stored.
    assert try_parse_mdn(raw) == "+12995551234"


@pytest.mark.parametrize("raw", ["", "Ada", "ext-0001", "ada@example.com", None])
def test_search_parsing_of_non_numbers_gives_none(raw):
    assert try_parse_mdn(raw) is None


def test_mask_keeps_country_code_and_last_four():
    assert mask_mdn("+12995551234") == "+1•••••1234"
    assert mask_mdn("+442079460958") == "+44•••••0958"
    assert mask_mdn(None) == ""


def test_mdn_text_asks_libphonenumber_once(monkeypatch):
    number = to_python("+12015550101")
    calls = []
    real = phonenumbers.is_valid_number
    monkeypatch.setattr(phonenumbers, "is_valid_number", lambda n: calls.append(n) or real(n))
    assert mdn_text(number) == "+12015550101"
    assert len(calls) == 1
    assert mdn_text("") == mdn_text(None) == ""
    assert mdn_text("+12015550101") == "+12015550101"


@pytest.mark.parametrize(
    ("raw", "region", "code"),
    [
        ("", "US", "required"),
        ("hello", "US", "not_a_number"),
        ("2015550123", None, "not_a_number"),
        ("+1 299 555 1234", "US", "not_valid"),
    ],
)
def test_the_shared_reading_says_why_a_number_is_refused(raw, region, code):
    with pytest.raises(InvalidMdn) as caught:
        parse_mdn(raw, region=region)
    assert caught.value.code == code


def test_the_shared_reading_places_national_digits_in_the_region_given():
    assert parse_mdn("2015550123", region="US") == "+12015550123"
    assert parse_mdn("+12995551234", region=None, strict=False) == "+12995551234"
