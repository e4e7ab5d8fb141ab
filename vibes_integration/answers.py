"""What Vibes answers, read leniently: the typed results of the calls that have one, and the
reading of bodies and of Vibes' error envelope.

Vibes documents several spellings of the same answer (an object or a one-item array, a
body or none); these functions turn each into the one shape the client returns, so that
the client itself is one method per operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from vibes_integration.errors import VibesError, error_class_for, mask_mdns_in

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class AddPersonResult:
    """Add Person's answer: ``created`` is False when Vibes merged into the person of that MDN."""

    person: JSONDict
    created: bool


@dataclass(frozen=True)
class ParticipantResult:
    """Add Participant's answer.

    ``http_status`` 201 means a new request (``status`` ``PENDING``: Vibes texted the
    number; ``SUBSCRIBED``: joined at once); 200 means a pending request already existed.
    """

    http_status: int
    status: str
    person: JSONDict
    person_key: str | None
    expire_date: str | None
    participation_date: str | None
    raw: JSONDict = field(repr=False)

    @property
    def is_pending(self) -> bool:
        return self.status.upper() == "PENDING"

    @property
    def is_subscribed(self) -> bool:
        return self.status.upper() == "SUBSCRIBED"


def json_of(response: requests.Response) -> Any:
    body = parse_body(response)
    if isinstance(body, str) and body:
        raise VibesError(
            "the answer is not JSON",
            status=response.status_code,
            body=body[:500],
            method=response.request.method or "",
            path=mask_mdns_in(response.request.path_url),
        )
    return body


def object_of(response: requests.Response) -> JSONDict:
    body = json_of(response)
    return body if isinstance(body, dict) else {}


def array_of(response: requests.Response) -> list[JSONDict]:
    body = json_of(response)
    if isinstance(body, dict):
        return [body]
    return [item for item in body or [] if isinstance(item, dict)]


def refusal(response: requests.Response, *, method: str, path: str) -> VibesError:
    """The error for an answer that is not 2xx, by its status, with Vibes' messages."""
    body = parse_body(response)
    return error_class_for(response.status_code)(
        response.reason or "",
        status=response.status_code,
        errors=error_entries(body),
        body=body,
        method=method,
        path=path,
    )


def parse_body(response: requests.Response) -> Any:
    """The JSON answer, its text when it is not JSON, or None when it is empty."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def lenient_object(response: requests.Response) -> JSONDict:
    """The answer's JSON object, or ``{}`` for no body, an echo that is not an object, or
    text: for answers whose body Vibes does not promise."""
    body = parse_body(response)
    return body if isinstance(body, dict) else {}


def error_entries(body: Any) -> list[JSONDict]:
    """Vibes' ``errors`` entries, tolerating a missing or oddly shaped envelope."""
    if not isinstance(body, dict):
        return []
    entries = body.get("errors")
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        message = body.get("message") or body.get("error")
        return [{"message": str(message)}] if message else []
    result = []
    for entry in entries:
        if isinstance(entry, dict):
            result.append(entry)
        elif entry:
            result.append({"message": str(entry)})
    return result
