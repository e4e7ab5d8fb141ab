"""Vibes' MDN rules per API version.

Version 2 takes and answers E.164 (``+12015550123``). Version 1, still Vibes' default when
no ``X-API-Version`` header is sent, takes and answers national digits without the country
code (``2015550123``) and refuses E.164. The sandbox stores E.164 either way.
"""

from __future__ import annotations

import re

import phonenumbers

from prefcenter.phone_numbers import InvalidMdn, parse_mdn

__all__ = ["InvalidMdn", "format_mdn", "parse_api_mdn"]

_DIGITS = re.compile(r"^\d{4,15}$")


def parse_api_mdn(raw: object, *, version: int, region: str = "US") -> str:
    """The E.164 form of ``raw`` as Vibes API ``version`` would read it, or ``InvalidMdn``
    with the message Vibes answers.

    The version's spelling rules are checked here; whether the number can exist is
    ``prefcenter.phone_numbers.parse_mdn``'s answer, the CRM's own.
    """
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise InvalidMdn("Invalid MDN format.")
    text = str(raw)
    if not text or text != text.strip():
        # A "+" sent unencoded in a query string arrives as a space.
        raise InvalidMdn(
            "Invalid MDN format. If you are using E.164 format, be sure to include "
            "%2B in place of +."
        )
    if version >= 2:
        if not text.startswith("+") or not _DIGITS.match(text[1:]):
            raise InvalidMdn(
                "Invalid MDN format. If you are using E.164 format, be sure to include "
                "%2B in place of +."
            )
        return _checked(text, None)
    if not _DIGITS.match(text):
        raise InvalidMdn("Invalid MDN format. API version 1 expects digits without '+'.")
    return _checked(text, region)


def _checked(text: str, region: str | None) -> str:
    try:
        return parse_mdn(text, region=region)
    except InvalidMdn as exc:
        if exc.code == "not_valid":
            raise InvalidMdn("Invalid MDN: not a valid mobile number.") from exc
        raise InvalidMdn("Invalid MDN format.") from exc


def format_mdn(mdn: str | None, *, version: int) -> str | None:
    """How Vibes spells a stored E.164 MDN for API ``version`` (national digits for 1)."""
    if not mdn or version >= 2:
        return mdn
    try:
        number = phonenumbers.parse(mdn, None)
    except phonenumbers.NumberParseException:
        return mdn
    return str(number.national_number)
