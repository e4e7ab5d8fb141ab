"""Which numbers the brand texts, and how the pages write them.

A number typed on the page is checked against ``PREFCENTER_TEXTED_COUNTRIES`` and against
what libphonenumber knows of its type before Vibes is asked: a landline cannot answer a
confirmation text, so asking Vibes would only spend a request and leave the subscriber
waiting. Numbers of the brand's own country are written in national format, others in
E.164, so that one page never writes one number two ways.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.phone import mdn_from_input
from prefcenter.conf import setting

PNT = phonenumbers.PhoneNumberType
#: Types that can receive a text, or that libphonenumber cannot tell apart from one.
_TEXTABLE = {PNT.MOBILE, PNT.FIXED_LINE_OR_MOBILE, PNT.UNKNOWN}


def _example(region: str) -> str:
    example = phonenumbers.example_number_for_type(region, PNT.MOBILE)
    if example is None:
        return ""
    if region == setting("PREFCENTER_TEXTED_COUNTRIES")[0]:
        return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def _countries_message() -> str:
    countries = setting("PREFCENTER_TEXTED_COUNTRIES")
    home = countries[0]
    if len(countries) == 1:
        return _("We text mobile numbers in %(country)s only. Enter one like %(example)s.") % {
            "country": home,
            "example": _example(home),
        }
    return _("We text mobile numbers in %(countries)s. Enter one like %(example)s.") % {
        "countries": ", ".join(countries),
        "example": _example(home),
    }


def textable_mdn(raw: object) -> str:
    """``raw`` as E.164 when it is a mobile number of a country the brand texts."""
    home = setting("PREFCENTER_TEXTED_COUNTRIES")[0]
    try:
        mdn = mdn_from_input(raw, region=home)
    except ValidationError as exc:
        if exc.code == "required":
            raise
        raise ValidationError(
            _("%(value)s is not a phone number we can text. Enter one like %(example)s.")
            % {"value": str(raw).strip(), "example": _example(home)},
            code="invalid",
        ) from exc
    number = phonenumbers.parse(mdn, None)
    if phonenumbers.region_code_for_number(number) not in setting("PREFCENTER_TEXTED_COUNTRIES"):
        raise ValidationError(_countries_message(), code="country")
    if phonenumbers.number_type(number) not in _TEXTABLE:
        raise ValidationError(
            _(
                "%(value)s is not a mobile number, so it cannot get our texts. "
                "Enter a mobile number like %(example)s."
            )
            % {"value": display_mdn(mdn), "example": _example(home)},
            code="not_mobile",
        )
    return mdn


def display_mdn(mdn: object) -> str:
    """One way to write a number on a page: national format for the brand's country,
    E.164 for every other."""
    text = str(mdn or "")
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    if phonenumbers.region_code_for_number(number) == setting("PREFCENTER_TEXTED_COUNTRIES")[0]:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
