"""Mobile numbers (MDNs) in E.164, read and masked the same way by every layer.

The CRM, the Vibes client's logs and the Vibes sandbox all read a number into E.164 and
mask one for display. They must agree, and the layers keep them apart (the CRM may not
import the Vibes integration, the sandbox may not import the CRM), so the one reading lives
here, below both: this module imports libphonenumber and nothing else, not even Django (the
sandbox runs without it). What each layer adds stays with it: the CRM's translated messages
and default region (``crm.phone``), the API-version rules of the sandbox
(``vibes_integration.sandbox.mdn``).
"""

from __future__ import annotations

import phonenumbers


class InvalidMdn(ValueError):
    """Not a number that can exist.

    ``code`` says why: ``"required"`` (nothing given), ``"not_a_number"`` (libphonenumber
    cannot read it), ``"not_valid"`` (it reads, but no such number exists); callers that
    raise it with a message of their own leave the default, ``"invalid"``.
    """

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def parse_mdn(raw: object, *, region: str | None, strict: bool = True) -> str:
    """``raw`` as an E.164 string, or ``InvalidMdn``.

    ``region`` (ISO 3166 code, e.g. ``"US"``) places a number written without its country
    code; None accepts only numbers that carry one. ``strict`` asks libphonenumber whether
    the number can exist (area code and exchange); False accepts any possible length, for
    lookups that must find whatever was stored.
    """
    text = str(raw or "").strip()
    if not text:
        raise InvalidMdn("no number given", code="required")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidMdn(f"{text!r} is not a phone number", code="not_a_number") from exc
    valid = phonenumbers.is_valid_number if strict else phonenumbers.is_possible_number
    if not valid(number):
        raise InvalidMdn(f"{text!r} is not a valid phone number", code="not_valid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_mdn(mdn: object) -> str:
    """``+12995551234`` → ``+1•••••1234``: enough for staff to recognise, not to dial."""
    text = "" if mdn is None else str(mdn)
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, None)
        prefix = f"+{number.country_code}"
    except phonenumbers.NumberParseException:
        prefix = text[:2]
    return f"{prefix}•••••{text[-4:]}"
