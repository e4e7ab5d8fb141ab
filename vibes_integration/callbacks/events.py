"""Typed callback events: one dataclass per kind of callback Vibes sends.

``parsing`` builds them from a body in any of the spellings Vibes uses; ``handlers``
apply them. Nothing here knows about HTTP or the database.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass
from typing import Any


class CallbackType(enum.StrEnum):
    SUBSCRIPTION_ADDED = "subscription_added"
    SUBSCRIPTION_REMOVED = "subscription_removed"
    PERSON_ADDED = "person_added"
    PERSON_UPDATED = "person_updated"
    ACK_PARTICIPANT_ADDED = "ack_participant_added"
    ACK_PARTICIPANT_CHANGED = "ack_participant_changed"
    COMPANY_PARTICIPANT_ADDED = "company_participant_added"
    COMPANY_PARTICIPANT_CHANGED = "company_participant_changed"
    SUBSCRIPTION_LIST_ADDED = "subscription_list_added"
    SUBSCRIPTION_LIST_UPDATED = "subscription_list_updated"
    UNKNOWN = "unknown"

    @classmethod
    def from_remote(cls, value: object) -> CallbackType:
        """Vibes' type name (any case, surrounding spaces) → our enum, else UNKNOWN."""
        text = str(value or "").strip().lower()
        try:
            return cls(text) if text != cls.UNKNOWN.value else cls.UNKNOWN
        except ValueError:
            return cls.UNKNOWN


HANDLED_TYPES: tuple[CallbackType, ...] = tuple(
    t for t in CallbackType if t != CallbackType.UNKNOWN
)


class ParticipantStatus(enum.StrEnum):
    PENDING = "pending"
    SUBSCRIBED = "subscribed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    @classmethod
    def from_remote(cls, value: object) -> ParticipantStatus:
        return _PARTICIPANT_STATUSES.get(str(value or "").strip().upper(), cls.UNKNOWN)


_PARTICIPANT_STATUSES = {
    "PENDING": ParticipantStatus.PENDING,
    "SUBSCRIBED": ParticipantStatus.SUBSCRIBED,
    "CONFIRMED": ParticipantStatus.CONFIRMED,
    "ACCEPTED": ParticipantStatus.CONFIRMED,
    "REJECTED": ParticipantStatus.REJECTED,
    "DECLINED": ParticipantStatus.REJECTED,
}


@dataclass(frozen=True)
class PersonRef:
    """How a callback names a person: any of these may be missing.

    ``person_key`` is Vibes' id of the person; ``person_id`` is its deprecated numeric id
    (a callback person's ``id`` or ``person_id``), a different value that is never taken
    for the key.
    """

    person_key: str | None = None
    external_person_id: str | None = None
    mdn: str | None = None
    person_id: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.person_key or self.external_person_id or self.mdn or self.person_id)


@dataclass(frozen=True)
class CallbackEnvelope:
    """What every callback body carries around its subject."""

    event_id: str | None
    callback_type: CallbackType
    remote_type: str
    event_date: datetime.datetime | None
    delivery_attempt: int | None = None
    is_test: bool = False
    event_date_latest: datetime.datetime | None = None
    """The latest moment ``event_date`` can mean: a timestamp without seconds
    (``2017-01-15T14:30Z``) names a whole minute."""


@dataclass(frozen=True)
class SubscriptionEvent:
    envelope: CallbackEnvelope
    person: PersonRef
    list_id: str
    opt_in_date: datetime.datetime | None = None
    opt_out_date: datetime.datetime | None = None
    opt_out_reason: str = ""
    remote_opt_out_reason: str = ""
    acquisition_campaign_id: str = ""


@dataclass(frozen=True)
class PersonEvent:
    """A person's complete current state in Vibes."""

    envelope: CallbackEnvelope
    person: PersonRef
    mobile_phone_given: bool
    carrier_code: str = ""
    raw_mdn: str = ""
    custom_fields: dict[str, Any] | None = None
    created_at: datetime.datetime | None = None
    updated_at: datetime.datetime | None = None


@dataclass(frozen=True)
class ParticipantEvent:
    """A web double opt-in (acquisition campaign participant) started or answered."""

    envelope: CallbackEnvelope
    person: PersonRef
    campaign_id: str
    status: ParticipantStatus
    remote_status: str = ""
    list_id: str = ""
    participation_date: datetime.datetime | None = None
    expire_date: datetime.datetime | None = None


@dataclass(frozen=True)
class SubscriptionListEvent:
    envelope: CallbackEnvelope
    list_id: str
    name: str | None = None


@dataclass(frozen=True)
class UnknownEvent:
    """A type this product does not handle (wallet, push, event-triggered, ...), or a
    body of a handled type that carries nothing to apply (``reason`` says why)."""

    envelope: CallbackEnvelope
    reason: str = ""


CallbackEventData = (
    SubscriptionEvent | PersonEvent | ParticipantEvent | SubscriptionListEvent | UnknownEvent
)
