"""Making, checking and revoking API keys.

A key reads ``pck_<prefix>_<secret>``: the prefix (8 characters) finds the stored row, the
secret (32 random bytes) is what proves possession. Only ``sha256(key)`` is stored, and it is
compared in constant time. Last-used times are written at most once per
``PREFCENTER_API_LAST_USED_INTERVAL`` seconds per key, so a busy client does not turn every
read into a write.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from prefcenter.api.models import ApiClient, ApiKey
from prefcenter.conf import setting

KEY_PREFIX = "pck_"
_PREFIX_LENGTH = 8


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``plaintext`` exists only here, to be shown once."""

    api_key: ApiKey
    plaintext: str


def key_digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_key_issue(*, client: ApiClient) -> IssuedKey:
    """A new key for ``client``; its plaintext is returned and never stored."""
    while True:
        prefix = secrets.token_hex(_PREFIX_LENGTH // 2)
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    plaintext = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey.objects.create(client=client, prefix=prefix, digest=key_digest(plaintext))
    return IssuedKey(api_key=api_key, plaintext=plaintext)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Refuse the key from now on (kept, so the admin still shows who had it)."""
    if api_key.revoked_at is None:
        ApiKey.objects.filter(pk=api_key.pk, revoked_at=None).update(revoked_at=timezone.now())
        api_key.refresh_from_db(fields=["revoked_at"])
    return api_key


def api_key_check(plaintext: str) -> ApiKey | None:
    """The live key that ``plaintext`` is, or None (unknown, wrong, revoked, inactive)."""
    if not plaintext.startswith(KEY_PREFIX):
        return None
    prefix, separator, secret = plaintext[len(KEY_PREFIX) :].partition("_")
    if not separator or len(prefix) != _PREFIX_LENGTH or not secret:
        return None
    api_key = ApiKey.objects.select_related("client").filter(prefix=prefix).first()
    if api_key is None:
        # Hash anyway, so an unknown prefix takes as long as a wrong secret.
        hmac.compare_digest(key_digest(plaintext), key_digest(plaintext[::-1]))
        return None
    if not hmac.compare_digest(api_key.digest, key_digest(plaintext)):
        return None
    if api_key.is_revoked or not api_key.client.is_active:
        return None
    return api_key


def api_key_mark_used(*, api_key: ApiKey, now: datetime.datetime | None = None) -> bool:
    """Record that the key was used, at most once per interval; answers whether it wrote."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=setting("PREFCENTER_API_LAST_USED_INTERVAL"))
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=cutoff)
    if api_key.last_used_at is not None and api_key.last_used_at >= cutoff:
        return False
    with transaction.atomic():
        written = ApiKey.objects.filter(stale, pk=api_key.pk).update(last_used_at=now)
        if written:
            ApiClient.objects.filter(stale, pk=api_key.client_id).update(last_used_at=now)
    if written:
        api_key.last_used_at = now
    return bool(written)
