"""What sending one plan came to, handed from the sending threads to the recording step.

Sending threads touch no database: a ``planning.Plan`` holds everything a call needs, and a
``SendReport`` holds everything Vibes answered (its result, each call for the call log, an
opt-in's answer), for the batch's own thread to record.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone


class Result(enum.Enum):
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"
    CONFLICT = "conflict"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CallRecord:
    """One HTTP call, for the call log."""

    action: str
    http_status: int | None
    ok: bool
    error: str = ""
    duration_ms: int = 0
    made_at: Any = field(default_factory=timezone.now)


@dataclass(frozen=True)
class OptInAnswer:
    """What Add Participant said, in the CRM's terms."""

    status: str
    answer: str
    error_code: str = ""
    expire_date: Any = None
    person_key: str | None = None


@dataclass
class SendReport:
    """What sending one plan to Vibes came to: its result, Vibes' answer, what was learned."""

    result: Result
    http_status: int | None = None
    error: str = ""
    error_codes: list[str] = field(default_factory=list)
    person_key: str | None = None
    """The person key Vibes gave or a read found (None: nothing new learned)."""
    external_id_confirmed: str | None = None
    """The external id Vibes now holds for the person (it answered a call naming it,
    or took it in an Add Person or Update Person body)."""
    person_created: bool | None = None
    opt_in: OptInAnswer | None = None
    calls: list[CallRecord] = field(default_factory=list)
