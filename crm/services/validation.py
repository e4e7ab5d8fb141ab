"""Cleaning of the values that several services take, each error naming its field."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_ipv46_address
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import OptOutReason, Source
from crm.erasure_models import ERASED_ID_PREFIX
from crm.models import EXTERNAL_PERSON_ID_MAX_LENGTH
from crm.phone import mdn_from_input, vibes_mdn

Choice = TypeVar("Choice", bound=Enum)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marks an argument that was not given, as opposed to one given as empty or None."""


@dataclass(frozen=True)
class ConsentContext:
    """How a consent was given: what the law asks us to be able to show later."""

    occurred_at: datetime.datetime | None = None
    ip_address: str | None = None
    user_agent: str = ""
    disclosure_text: str | None = None
    reference: str = ""


def clean_choice(choices: type[Choice], value: Any, field_name: str, message: str) -> Choice:
    """``value`` as one of ``choices``, or a ``ValidationError`` on ``field_name`` saying
    ``message``."""
    try:
        return choices(value)
    except ValueError as exc:
        raise ValidationError({field_name: message}) from exc


def check_source(source: Any) -> Source:
    try:
        return Source(source)
    except ValueError as exc:
        raise ValidationError(
            {"source": _("%(value)s is not a known source.") % {"value": source}}
        ) from exc


def clean_external_person_id(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValidationError({"external_person_id": _("An external person id is required.")})
    if len(text) > EXTERNAL_PERSON_ID_MAX_LENGTH:
        raise ValidationError(
            {
                "external_person_id": _("Use at most %(n)d characters.")
                % {"n": EXTERNAL_PERSON_ID_MAX_LENGTH}
            }
        )
    if text.startswith(ERASED_ID_PREFIX):
        raise ValidationError(
            {
                "external_person_id": _(
                    "Ids starting with %(prefix)s are reserved for erased persons."
                )
                % {"prefix": ERASED_ID_PREFIX}
            }
        )
    return text


def clean_mdn(value: Any, field_name: str = "mdn") -> str | None:
    """A number someone typed: it must be a number that can exist (libphonenumber's
    "valid"), in E.164."""
    if value is None or str(value).strip() == "":
        return None
    try:
        return mdn_from_input(value)
    except ValidationError as exc:
        raise ValidationError({field_name: exc.messages}) from exc


def clean_vibes_mdn(value: Any, field_name: str = "mdn") -> str | None:
    """A number Vibes sent: recorded as Vibes holds it (``crm.phone.vibes_mdn``).

    Only its shape is checked; the validity rules of ``clean_mdn`` are for numbers people
    type. Text that is no number at all is still refused, naming the field.
    """
    if value is None or str(value).strip() == "":
        return None
    mdn = vibes_mdn(value)
    if mdn is None:
        raise ValidationError(
            {field_name: _("%(value)s is not a phone number.") % {"value": value}},
            code="invalid",
        )
    return mdn


def clean_mdn_from(source: Source, value: Any, field_name: str = "mdn") -> str | None:
    """``clean_vibes_mdn`` for a number that came from Vibes (``Source.VIBES``),
    ``clean_mdn`` for every other source: a number someone typed."""
    if source == Source.VIBES:
        return clean_vibes_mdn(value, field_name)
    return clean_mdn(value, field_name)


def check_opt_out_reason(reason: str) -> None:
    """Refuse a reason that is not one of Vibes' opt-out reasons (empty is none given)."""
    if reason and reason not in OptOutReason.values:
        raise ValidationError(
            {"opt_out_reason": _("%(value)s is not a Vibes opt-out reason.") % {"value": reason}}
        )


def check_reason_only_on_opt_out(reason: str, *, opting_out: bool) -> None:
    """Refuse an opt-out reason on anything but an opt-out."""
    if reason and not opting_out:
        raise ValidationError(
            {"opt_out_reason": _("Only an opt-out has an opt-out reason.")}, code="invalid"
        )


def clean_email(value: Any) -> str:
    text = str(value or "").strip()
    if text:
        try:
            validate_email(text)
        except ValidationError as exc:
            raise ValidationError({"email": _("Enter a valid email address.")}) from exc
    return text


def clean_name(value: Any, field_name: str) -> str:
    text = str(value or "").strip()
    if len(text) > 150:
        raise ValidationError({field_name: _("Use at most 150 characters.")})
    return text


def clean_aware(value: Any, field_name: str) -> datetime.datetime | None:
    """Dates are compared with each other (stale events): a naive one cannot be."""
    if value is None:
        return None
    if not isinstance(value, datetime.datetime) or timezone.is_naive(value):
        raise ValidationError(
            {field_name: _("Give a date and time with a time zone.")}, code="invalid"
        )
    return value


def clean_consent(consent: Any, *, default_occurred_at: datetime.datetime | None = None):
    if consent is None:
        return ConsentContext(occurred_at=default_occurred_at)
    if not isinstance(consent, ConsentContext):
        raise ValidationError({"consent": _("Describe the consent with a ConsentContext.")})
    clean_aware(consent.occurred_at, "occurred_at")
    if consent.ip_address:
        # Checked here, not only when the ledger line is cleaned: services write the line
        # inside their caller's transaction, where an error after the first write would
        # leave the caller nothing to do but roll back.
        try:
            validate_ipv46_address(consent.ip_address)
        except ValidationError as exc:
            raise ValidationError({"ip_address": exc.messages}) from exc
    if consent.occurred_at is None and default_occurred_at is not None:
        return replace(consent, occurred_at=default_occurred_at)
    return consent
