"""The data that travels between the database side of a batch and its sending threads.

Sending threads touch no database: a ``Plan`` holds everything a call needs (read from
the database just before sending, so it is the latest state), and an ``SendReport`` holds
everything Vibes answered, for the main thread to record.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

JSONDict = dict[str, Any]


@dataclass(frozen=True)
class Plan:
    operation_id: int
    claim_token: str
    kind: str
    person_id: int
    external_person_id: str
    person_key: str | None = None
    external_id_in_vibes: bool = False
    vibes_person_id: str | None = None
    crm_mdn: str | None = None
    check_mdn: bool = False
    update_payload: JSONDict | None = None
    add_payload: JSONDict | None = None
    list_id: str = ""
    acquisition_id: str = ""
    opt_in_mdn: str = ""
    opt_in_request_id: int | None = None
    #: An opt-in of a change of number goes without the external id, which Vibes ties
    #: to the old number (docs/preferences.md).
    opt_in_without_external_id: bool = False
    #: A completed change of number: the Vibes person that held the old number, the one
    #: that holds the new number, and the lists to end on the old one.
    old_person_key: str = ""
    old_mdn: str = ""
    new_person_key: str = ""
    old_list_ids: tuple[str, ...] = ()
    skip_reason: str = ""
    erasure_targets: tuple[JSONDict, ...] = ()


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
