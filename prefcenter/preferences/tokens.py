"""Signed, expiring preference-center links, each scoped to one person.

A token is ``<person pk>.<secret digest>`` signed with a timestamp (``django.core.signing``,
so it follows ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` rotation). The digest is derived
from the person's ``link_secret``: ``crm.services.person_rotate_link_secret`` changes that
secret and so revokes every link issued for the person before, without a table of issued
links. The signature is checked before the database is touched, so a tampered token costs
no query.
"""

from __future__ import annotations

import base64
import hashlib

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from crm.models import Person
from prefcenter.conf import setting

SALT = "prefcenter.preferences.link"


class InvalidLink(Exception):
    """The link was tampered with, revoked, or names no person."""


class ExpiredLink(InvalidLink):
    """The link was genuine but is older than ``PREFCENTER_LINK_MAX_AGE``."""


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def _secret_digest(person_pk: int, link_secret: str) -> str:
    digest = hashlib.sha256(f"{person_pk}:{link_secret}".encode()).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(person: Person) -> str:
    return _signer().sign(f"{person.pk}.{_secret_digest(person.pk, person.link_secret)}")


def preference_path(person: Person) -> str:
    return reverse("preferences:page", kwargs={"token": make_token(person)})


def preference_url(person: Person, *, base_url: str | None = None) -> str:
    """The absolute link to ``person``'s preference center (``SITE_URL`` unless given)."""
    base = (base_url or settings.SITE_URL).rstrip("/")
    return f"{base}{preference_path(person)}"


def resolve_token(token: str) -> Person:
    """The person a link was made for, or ``InvalidLink`` / ``ExpiredLink``."""
    try:
        value = _signer().unsign(str(token), max_age=setting("PREFCENTER_LINK_MAX_AGE"))
    except signing.SignatureExpired as exc:
        raise ExpiredLink(str(exc)) from exc
    except signing.BadSignature as exc:
        raise InvalidLink(str(exc)) from exc
    pk_text, _, digest = value.partition(".")
    if not pk_text.isdigit() or not digest:
        raise InvalidLink("malformed link")
    person = Person.objects.filter(pk=int(pk_text)).first()
    if person is None:
        raise InvalidLink("no such person")
    if not constant_time_compare(digest, _secret_digest(person.pk, person.link_secret)):
        raise InvalidLink("revoked link")
    return person
