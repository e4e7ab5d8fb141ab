"""Keyed hashes of a number and an email: how an erased person is recognised.

HMAC-SHA256 with ``PREFCENTER_ERASURE_HASH_KEY``, not a plain hash: a plain hash of a
phone number can be reversed by hashing every possible number, a keyed one cannot without
the key. The number is hashed in E.164 and the email lower-cased and stripped, so every
way of typing them gives the same hash.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.exceptions import ValidationError

from crm.phone import mdn_from_input
from prefcenter.conf import setting


def _key() -> bytes:
    return str(setting("PREFCENTER_ERASURE_HASH_KEY") or settings.SECRET_KEY).encode()


def _digest(value: str) -> str:
    return hmac.new(_key(), value.encode(), hashlib.sha256).hexdigest()


def mdn_hash(mdn: object) -> str:
    """The hash of a number in any format; empty for no number or one that is not valid."""
    if not mdn:
        return ""
    try:
        e164 = mdn_from_input(str(mdn), strict=False)
    except ValidationError:
        return ""
    return _digest(f"mdn:{e164}")


def email_hash(email: object) -> str:
    """The hash of an email address, case and surrounding spaces ignored."""
    cleaned = str(email or "").strip().lower()
    return _digest(f"email:{cleaned}") if cleaned else ""
