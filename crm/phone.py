"""Phone number helpers: parsing what people type into E.164, and masking for display."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber


def parse_mdn(raw: object, *, region: str | None = None, strict: bool = True) -> str:
    """Return ``raw`` as an E.164 string, or raise ``ValidationError``.

    Accepts the formats people paste: "(299) 555-1234", "299.555.1234", "+1 299 555 1234",
    and Vibes' version-1 national digits ("2995551234"). ``strict`` asks libphonenumber
    whether the number can exist (area code and exchange); searches pass False so that any
    plausible digits are looked up.
    """
    text = str(raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a mobile number."), code="required")
    try:
        number = phonenumbers.parse(text, region or settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("%(value)s is not a phone number."), code="invalid", params={"value": text}
        ) from exc
    valid = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    if not valid(number):
        raise ValidationError(
            _("%(value)s is not a valid phone number."), code="invalid", params={"value": text}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_parse_mdn(raw: object) -> str | None:
    """``parse_mdn`` that answers None instead of raising (for search boxes)."""
    try:
        return parse_mdn(raw, strict=False)
    except ValidationError:
        return None


def mdn_text(mdn: object) -> str:
    """A stored number as text ("" for none), asking libphonenumber once.

    A ``PhoneNumberField`` value validates the number again at every ``str()``, ``len()``
    and truth test; code that handles many numbers takes the text once with this.
    """
    if isinstance(mdn, PhoneNumber):
        return str(mdn)
    return str(mdn or "")


def mask_mdn(mdn: object) -> str:
    """``+12995551234`` → ``+1•••••1234``: enough for staff to recognise, not to dial."""
    text = mdn_text(mdn)
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, None)
        prefix = f"+{number.country_code}"
    except phonenumbers.NumberParseException:
        prefix = text[:2]
    return f"{prefix}•••••{text[-4:]}"
