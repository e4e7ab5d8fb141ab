"""Requests and answers as the sandbox's handlers see them, and Vibes' error envelope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiRequest:
    method: str
    path: str
    raw_query: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw_body: bytes = b""
    api_version: int = 1

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


@dataclass
class ApiResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def error(status: int, *entries: str | tuple[str, Any]) -> ApiResponse:
    """Vibes' envelope: ``{"errors": [{"message": ..., "code": ...}]}``.

    An entry is a message (its code is the HTTP status, a number, as in Vibes' generic
    errors) or a (message, code) pair for named conditions such as
    ``MDNHASCONFIRMATIONBLOCK``.
    """
    errors = []
    for entry in entries:
        if isinstance(entry, tuple):
            message, code = entry
        else:
            message, code = entry, status
        errors.append({"message": message, "code": code})
    return ApiResponse(status, {"errors": errors})


def empty(status: int) -> ApiResponse:
    """An answer without a body, as Update Person's 404 and 409 are documented."""
    return ApiResponse(status, None)


class ApiError(Exception):
    """Raised inside a handler to answer ``response`` at once."""

    def __init__(self, response: ApiResponse) -> None:
        self.response = response
        super().__init__(response.status)
