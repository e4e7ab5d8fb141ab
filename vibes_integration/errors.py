"""The exceptions the Vibes client raises.

One root, ``VibesError``, so callers can catch "anything Vibes said no to" in one place,
and a small tree below it keyed on what the caller should DO about the failure:

    VibesError                      status, errors (Vibes' envelope entries), codes, body
    ├── BadRequest                  400: the request itself is malformed (e.g. a bad MDN)
    ├── AuthenticationFailed        401/403: wrong credentials or company key
    ├── NotFound                    404
    ├── Conflict                    409: e.g. the MDN belongs to another person
    ├── Unprocessable               422: .codes such as MDNHASCONFIRMATIONBLOCK
    └── Retryable                   worth trying again later, with backoff
        ├── RateLimited             429: past the per-company rate
        └── TransientError          5xx, timeouts, connection errors (status None)

Catch ``Retryable`` to decide "retry with backoff"; everything else is permanent and
should be recorded with its messages for staff to see.
"""

from __future__ import annotations

import re
from typing import Any

from prefcenter.phone_numbers import mask_mdn

_E164 = re.compile(r"(?:\+|%2B)(\d{7,15})", re.IGNORECASE)


def mask_mdns_in(text: str) -> str:
    """Mask every E.164 number in ``text`` (also URL-encoded, ``%2B...``) for logs."""
    return _E164.sub(lambda match: mask_mdn(f"+{match.group(1)}"), text)


class VibesError(Exception):
    """Vibes refused a call, or could not be reached.

    ``errors`` holds the entries of Vibes' ``{"errors": [{"message", "code"}]}`` envelope
    (empty when the answer had no body, as Update Person's 404 and 409 do); ``body`` is the
    parsed JSON answer, or its text when it was not JSON.
    """

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        errors: list[dict[str, Any]] | None = None,
        body: Any = None,
        method: str = "",
        path: str = "",
    ) -> None:
        self.message = message
        self.status = status
        self.errors = list(errors or [])
        self.body = body
        self.method = method
        self.path = path
        super().__init__(message)

    @property
    def codes(self) -> list[Any]:
        """Vibes' error codes: strings such as ``"MDNHASCONFIRMATIONBLOCK"`` or numbers."""
        return [entry["code"] for entry in self.errors if entry.get("code") is not None]

    @property
    def messages(self) -> list[str]:
        return [str(entry["message"]) for entry in self.errors if entry.get("message")]

    def has_code(self, code: str) -> bool:
        wanted = str(code).upper()
        return any(str(value).upper() == wanted for value in self.codes)

    def __str__(self) -> str:
        parts = []
        if self.method or self.path:
            parts.append(f"{self.method} {self.path}".strip())
        parts.append(f"HTTP {self.status}" if self.status is not None else "no answer")
        head = " ".join(parts)
        details = []
        for entry in self.errors:
            message = entry.get("message") or ""
            code = entry.get("code")
            details.append(f"{message} [{code}]" if code is not None else str(message))
        if not details and self.message:
            details.append(self.message)
        if not details and self.body not in (None, ""):
            details.append(str(self.body)[:300])
        text = f"{head}: {'; '.join(details)}" if details else head
        return mask_mdns_in(text)


class BadRequest(VibesError):
    """400: Vibes could not read the request (for instance an MDN it cannot parse)."""


class AuthenticationFailed(VibesError):
    """401 or 403: the credentials or the company key are wrong."""


class NotFound(VibesError):
    """404: the person, list, campaign or callback does not exist."""


class Conflict(VibesError):
    """409: the MDN belongs to another person, cannot be changed, or is already subscribed."""


class Unprocessable(VibesError):
    """422: understood but refused; see ``codes`` (e.g. ``EXTERNALPERSONIDMISMATCH``)."""


class Retryable(VibesError):
    """A failure that may succeed later: retry with backoff and jitter."""


class RateLimited(Retryable):
    """429: more than the per-company rate. Vibes sends no Retry-After header."""


class TransientError(Retryable):
    """5xx, a timeout or a connection error (then ``status`` is None)."""


_BY_STATUS: dict[int, type[VibesError]] = {
    400: BadRequest,
    401: AuthenticationFailed,
    403: AuthenticationFailed,
    404: NotFound,
    408: TransientError,
    409: Conflict,
    422: Unprocessable,
    429: RateLimited,
}


def error_class_for(status: int) -> type[VibesError]:
    """The exception class for an HTTP status Vibes answered with."""
    if status >= 500:
        return TransientError
    return _BY_STATUS.get(status, VibesError)
