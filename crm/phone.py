"""Phone number helpers: parsing what people type into E.164, recording the numbers Vibes
holds, and masking for display.

Two paths, on purpose. A number someone types (``mdn_from_input``) is input: it must be a
number that can exist (libphonenumber's "valid"). A number Vibes sends (``vibes_mdn``) is
a fact: Vibes already holds it and texts it, whatever the numbering plan says (its own
examples, ``+12995551234`` and ``+1999999999``, are not valid numbers), so it is recorded
as Vibes holds it and only its shape is checked.

The reading itself, and the mask, are ``prefcenter.phone_numbers``'s, shared with the
layers that may not import the CRM; this module adds the company's default region and the
messages people read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

from prefcenter.phone_numbers import InvalidMdn, mask_mdn, parse_mdn

__all__ = ["E164_SHAPE", "mask_mdn", "mdn_from_input", "mdn_text", "try_parse_mdn", "vibes_mdn"]


def mdn_from_input(raw: object, *, region: str | None = None, strict: bool = True) -> str:
    """Return ``raw`` as an E.164 string, or raise ``ValidationError``.

    Accepts the formats people paste: "(299) 555-1234", "299.555.1234", "+1 299 555 1234",
    and Vibes' version-1 national digits ("2995551234"). ``strict`` asks libphonenumber
    whether the number can exist (area code and exchange); searches pass False so that any
    plausible digits are looked up.
    """
    try:
        return parse_mdn(raw, region=region or settings.PHONENUMBER_DEFAULT_REGION, strict=strict)
    except InvalidMdn as exc:
        raise _input_error(exc, str(raw or "").strip()) from exc


def _input_error(error: InvalidMdn, text: str) -> ValidationError:
    if error.code == "required":
        return ValidationError(_("Enter a mobile number."), code="required")
    if error.code == "not_a_number":
        message = _("%(value)s is not a phone number.")
    else:
        message = _("%(value)s is not a valid phone number.")
    return ValidationError(message, code="invalid", params={"value": text})


E164_SHAPE = re.compile(r"^\+[1-9]\d{1,14}$")
"""``+`` and at most 15 digits, the first not 0: what E.164 allows, nothing more."""

_VISUAL_SEPARATORS = re.compile(r"[\s().\-]")


def vibes_mdn(raw: object, *, region: str | None = None) -> str | None:
    """A number Vibes holds, as Vibes holds it; None when it is no number at all.

    An E.164 number (callbacks registered with API version 2) is kept as it is, with any
    spaces or dashes taken out. National digits (version 1, ``2995551234``) are put in
    E.164 with the company's default region when libphonenumber finds the length
    possible there. Validity (area codes, exchanges, landlines) is not asked: refusing
    a number Vibes texts would lose the event that carries it. ``raw`` may be any value
    of a callback's JSON: a number sent as a JSON number is read as its digits, an object,
    a list or a boolean is no number.
    """
    if raw is None or isinstance(raw, bool | Mapping | list):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = _VISUAL_SEPARATORS.sub("", str(raw).strip())
    if not text:
        return None
    if E164_SHAPE.match(text):
        return text
    try:
        number = phonenumbers.parse(text, region or settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return formatted if E164_SHAPE.match(formatted) else None


def try_parse_mdn(raw: object) -> str | None:
    """``mdn_from_input`` that answers None instead of raising (for search boxes and lookups).

    A number Vibes holds may be stored though the plan has no such number (``vibes_mdn``):
    what is not even possible is still looked up as Vibes would spell it.
    """
    try:
        return mdn_from_input(raw, strict=False)
    except ValidationError:
        return vibes_mdn(raw)


def mdn_text(mdn: object) -> str:
    """A stored number as text ("" for none), asking libphonenumber once.

    A ``PhoneNumberField`` value validates the number again at every ``str()``, ``len()``
    and truth test; code that handles many numbers takes the text once with this.
    """
    if isinstance(mdn, PhoneNumber):
        return str(mdn)
    return str(mdn or "")
