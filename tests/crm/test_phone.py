"""Phone numbers: what staff and subscribers type, stored as E.164, shown masked."""

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from phonenumber_field.phonenumber import to_python

from crm.phone import mask_mdn, mdn_text, parse_mdn, try_parse_mdn


@pytest.mark.parametrize(
    "raw", ["(201) 555-0123", "201.555.0123", "+1 201 555 0123", "2015550123", "1-201-555-0123"]
)
def test_parse_accepts_common_formats(raw):
    assert parse_mdn(raw) == "+12015550123"


@pytest.mark.parametrize("raw", ["", "hello", "555", "+1 299 555 1234"])
def test_parse_refuses_what_cannot_be_a_real_number(raw):
    with pytest.raises(ValidationError):
        parse_mdn(raw)


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
