"""Signing as the Standard Webhooks specification describes (https://www.standardwebhooks.com).

A secret is ``whsec_`` followed by the base64 of random bytes; the HMAC key is those
bytes. The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the
``webhook-signature`` header holds ``v1,<base64 HMAC-SHA256>`` for every secret that signs
(space-separated), so that a receiver keeps verifying while a rotated secret is replaced.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret (the prefix is optional, as receivers allow)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded, validate=True)


def secret_hint(secret: str) -> str:
    """Enough of a secret for staff to tell two apart, not to use one."""
    return f"{secret[: len(SECRET_PREFIX) + 4]}…" if secret else ""


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(
    *, signing_secrets: list[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (and the content type)."""
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret=secret, message_id=message_id, timestamp=timestamp, body=body)
            for secret in signing_secrets
        ),
    }
