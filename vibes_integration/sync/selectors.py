"""Reads of the outbound sync for staff: each person's sync state, and the dashboard."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldError
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from crm.models import Person
from prefcenter.conf import setting
from vibes_integration.sync.choices import (
    ACTIVE_STATUSES,
    OperationStatus,
    SyncStatus,
)
from vibes_integration.sync.claims import due_operations
from vibes_integration.sync.lag import OUTCOME_FAILED, call_outcome
from vibes_integration.sync.models import Operation, OutboundCall
from vibes_integration.sync.ratelimit import limiter_backend


@dataclass(frozen=True)
class SyncState:
    """Where one person stands with Vibes, and why (for failures and conflicts)."""

    status: SyncStatus
    reason: str = ""
    since: datetime.datetime | None = None
    operation_id: int | None = None

    @property
    def label(self) -> str:
        return str(SyncStatus(self.status).label)

    def __str__(self) -> str:
        return f"{self.label}: {self.reason}" if self.reason else self.label


def _unresolved(status: OperationStatus) -> QuerySet[Operation]:
    return Operation.objects.filter(
        person_id=OuterRef("pk"), status=status, resolved=False
    ).order_by("-id")


def person_sync_states(person_ids: Iterable[int]) -> dict[int, SyncState]:
    """The sync state of each person, in one query however many persons are asked for.

    A conflict or a failure that no later success has made moot wins over work still
    pending, because it needs a person to act; then pending work; then in sync (Vibes
    acknowledged the person) or not sent yet.
    """
    ids = list(person_ids)
    if not ids:
        return {}
    active = Operation.objects.filter(person_id=OuterRef("pk"), status__in=ACTIVE_STATUSES)
    conflicts = _unresolved(OperationStatus.CONFLICT)
    failures = _unresolved(OperationStatus.FAILED)
    rows = (
        Person.objects.filter(pk__in=ids)
        .annotate(
            conflict_id=Subquery(conflicts.values("id")[:1]),
            conflict_error=Subquery(conflicts.values("error")[:1]),
            conflict_at=Subquery(conflicts.values("finished_at")[:1]),
            failed_id=Subquery(failures.values("id")[:1]),
            failed_error=Subquery(failures.values("error")[:1]),
            failed_at=Subquery(failures.values("finished_at")[:1]),
            pending_since=Subquery(active.order_by("id").values("created_at")[:1]),
            synced=Exists(
                Operation.objects.filter(person_id=OuterRef("pk"), status=OperationStatus.DONE)
            ),
        )
        .values(
            "pk",
            "person_key",
            "conflict_id",
            "conflict_error",
            "conflict_at",
            "failed_id",
            "failed_error",
            "failed_at",
            "pending_since",
            "synced",
        )
    )
    return {row["pk"]: _state_of(row) for row in rows}


def _state_of(row: dict[str, Any]) -> SyncState:
    if row["conflict_id"] is not None:
        return SyncState(
            SyncStatus.CONFLICT, row["conflict_error"], row["conflict_at"], row["conflict_id"]
        )
    if row["failed_id"] is not None:
        return SyncState(SyncStatus.FAILED, row["failed_error"], row["failed_at"], row["failed_id"])
    if row["pending_since"] is not None:
        return SyncState(SyncStatus.PENDING, since=row["pending_since"])
    if row["synced"] or row["person_key"]:
        return SyncState(SyncStatus.IN_SYNC)
    return SyncState(SyncStatus.NOT_SENT)


def person_sync_state(person: Person) -> SyncState:
    return person_sync_states([person.pk])[person.pk]


@dataclass(frozen=True)
class SyncDashboard:
    pending: int
    running: int
    due_now: int
    failed: int
    conflicts: int
    oldest_pending_at: datetime.datetime | None
    next_retry_at: datetime.datetime | None
    last_success_at: datetime.datetime | None
    calls_last_hour: int
    failed_calls_last_hour: int
    callback_backlog: int | None
    rate_limit: int
    rate_limiter: str

    @property
    def oldest_pending_age(self) -> datetime.timedelta | None:
        if self.oldest_pending_at is None:
            return None
        return timezone.now() - self.oldest_pending_at


def callback_backlog() -> int | None:
    """Callbacks received but not applied yet, or None where the callback app is absent."""
    try:
        model = apps.get_model("vibes_callbacks", "CallbackEvent")
    except LookupError:
        return None
    try:
        return model.objects.filter(status__in=["received", "failed"]).count()
    except FieldError:
        return None


def sync_dashboard() -> SyncDashboard:
    now = timezone.now()
    counts = Operation.objects.aggregate(
        pending=_count(Q(status=OperationStatus.PENDING)),
        running=_count(Q(status=OperationStatus.RUNNING)),
        failed=_count(Q(status=OperationStatus.FAILED, resolved=False)),
        conflicts=_count(Q(status=OperationStatus.CONFLICT, resolved=False)),
        oldest=Min("created_at", filter=Q(status__in=ACTIVE_STATUSES)),
        next_retry=Min(
            "next_attempt_at", filter=Q(status=OperationStatus.PENDING, next_attempt_at__gt=now)
        ),
    )
    hour_ago = now - datetime.timedelta(hours=1)
    # A 404 the sync took as its answer (a leave already done, a person to create) is
    # not a failure: call_outcome tells them apart.
    calls = OutboundCall.objects.annotate(outcome=call_outcome).aggregate(
        last_success=Max("made_at", filter=Q(ok=True)),
        last_hour=_count(Q(made_at__gte=hour_ago), field="id"),
        failed_last_hour=_count(Q(made_at__gte=hour_ago, outcome=OUTCOME_FAILED), field="id"),
    )
    return SyncDashboard(
        pending=counts["pending"],
        running=counts["running"],
        due_now=due_operations(now).count(),
        failed=counts["failed"],
        conflicts=counts["conflicts"],
        oldest_pending_at=counts["oldest"],
        next_retry_at=counts["next_retry"],
        last_success_at=calls["last_success"],
        calls_last_hour=calls["last_hour"],
        failed_calls_last_hour=calls["failed_last_hour"],
        callback_backlog=callback_backlog(),
        rate_limit=setting("VIBES_RATE_LIMIT"),
        rate_limiter=limiter_backend(),
    )


def _count(condition: Q, field: str = "id") -> Count:
    return Count(field, filter=condition)


def recent_problems(status: OperationStatus, limit: int = 20) -> list[Operation]:
    """The newest unresolved failures (or conflicts), for the dashboard."""
    return list(
        Operation.objects.filter(status=status, resolved=False)
        .select_related("person", "subscription_list", "opt_in_request__subscription_list")
        .order_by("-finished_at", "-id")[:limit]
    )
