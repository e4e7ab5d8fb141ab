"""How long the sync takes, read from the timestamps the records already keep.

Two delays matter to operators: a change saved in the CRM until Vibes answered its call
(``Operation.created_at`` → ``finished_at``), and a callback received until it was applied
(``CallbackEvent.received_at`` → ``processed_at``). Their percentiles are computed in the
database: ``PERCENTILE_CONT`` on PostgreSQL, and on other databases an ordered read at the
percentile's offset (two rows per percentile), so that no request loads an hour of rows.

The callback log has no index on its times (each index costs every delivery), but it is
written in arrival order: the first event received since a moment is found by a binary
search on the primary key, and time windows become id ranges.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.apps import apps
from django.db import connections
from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncMinute
from django.utils import timezone

from vibes_integration.sync.choices import ACTIVE_STATUSES, OperationStatus
from vibes_integration.sync.models import Operation, OutboundCall

QUANTILES = (0.5, 0.99)

ANSWERED_STATUSES = (OperationStatus.DONE, OperationStatus.FAILED, OperationStatus.CONFLICT)
"""Final states that Vibes' answer decided (not merged, not skipped without a call)."""

APPLIED_CALLBACK_STATUSES = ("processed", "stale", "ignored", "invalid")
"""Callback states that processing settled (a failure is retried, so not settled)."""

WAITING_CALLBACK_STATUSES = ("received", "failed")

OUTCOME_OK = "ok"
OUTCOME_NOT_FOUND_DONE = "not_found_done"
OUTCOME_FAILED = "failed"
OUTCOMES = (OUTCOME_OK, OUTCOME_NOT_FOUND_DONE, OUTCOME_FAILED)

ANSWERING_404_ACTIONS = ("update_person", "get_person")
"""Calls whose 404 raises in the client but is an answer the sync acts on (see
``vibes_integration.sync.person_calls``): it is logged as not successful, yet is no failure."""

call_outcome = Case(
    # A 404 the sync took as an answer: a leave or a search by number answered "none"
    # (recorded as successes), an Update Person for someone Vibes does not know yet (the
    # operation goes on with Add Person), a read of a person by an identifier Vibes does
    # not hold (the operation tries the next identifier). None of them is a failure.
    When(http_status=404, ok=True, then=Value(OUTCOME_NOT_FOUND_DONE)),
    When(
        http_status=404,
        action__in=ANSWERING_404_ACTIONS,
        then=Value(OUTCOME_NOT_FOUND_DONE),
    ),
    When(ok=True, then=Value(OUTCOME_OK)),
    default=Value(OUTCOME_FAILED),
    output_field=CharField(),
)
"""Each call to Vibes as ok, a 404 that meant done, or a failure."""


@dataclass(frozen=True)
class Percentiles:
    """The 50th and 99th percentile of a delay, in seconds, over ``count`` observations."""

    count: int
    p50: float | None
    p99: float | None

    @classmethod
    def empty(cls) -> Percentiles:
        return cls(0, None, None)

    @property
    def p50_text(self) -> str:
        return seconds_text(self.p50)

    @property
    def p99_text(self) -> str:
        return seconds_text(self.p99)


def seconds_text(value: float | None) -> str:
    """A delay as people read it: 0.42 s, 45 s, 12 min, 3.5 h; a dash for none."""
    if value is None:
        return "—"
    if value < 10:
        return f"{value:.2f} s"
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.0f} min"
    return f"{value / 3600:.1f} h"


def callback_model():
    """The callback log's model, or None where the callback app is not installed."""
    try:
        return apps.get_model("vibes_callbacks", "CallbackEvent")
    except LookupError:
        return None


def percentiles(queryset: QuerySet, start: str, end: str) -> Percentiles:
    """Percentiles of ``end - start`` over the rows of ``queryset``, in the database."""
    rows = queryset.filter(**{f"{start}__isnull": False, f"{end}__isnull": False}).annotate(
        lag=ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    )
    if connections[rows.db].vendor == "postgresql":
        return _postgres_percentiles(rows)
    return _offset_percentiles(rows)


def _postgres_percentiles(rows: QuerySet) -> Percentiles:
    sql, params = rows.values("lag").query.sql_with_params()
    columns = ", ".join(
        f"PERCENTILE_CONT({float(q)}) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM t.lag))"
        for q in QUANTILES
    )
    with connections[rows.db].cursor() as cursor:
        # The inner query is Django's own, with its parameters; the quantiles are ours.
        cursor.execute(f"SELECT COUNT(*), {columns} FROM ({sql}) t", params)  # noqa: S608
        count, *values = cursor.fetchone()
    if not count:
        return Percentiles.empty()
    return Percentiles(count, *(float(value) for value in values))


def _offset_percentiles(rows: QuerySet) -> Percentiles:
    """The same interpolation as PERCENTILE_CONT, from two ordered rows per percentile."""
    count = rows.count()
    if not count:
        return Percentiles.empty()
    ordered = rows.order_by("lag").values_list("lag", flat=True)
    values = []
    for q in QUANTILES:
        position = q * (count - 1)
        low = math.floor(position)
        pair = [lag.total_seconds() for lag in ordered[low : low + 2]]
        if len(pair) == 1 or position == low:
            values.append(pair[0])
        else:
            values.append(pair[0] + (pair[1] - pair[0]) * (position - low))
    return Percentiles(count, *values)


def change_lag(since: datetime.datetime, until: datetime.datetime | None = None) -> Percentiles:
    """Change saved → Vibes answered, for operations answered in [since, until)."""
    answered = Operation.objects.filter(status__in=ANSWERED_STATUSES, finished_at__gte=since)
    if until is not None:
        answered = answered.filter(finished_at__lt=until)
    return percentiles(answered, "created_at", "finished_at")


def first_callback_id_since(moment: datetime.datetime) -> int | None:
    """The id of the first callback received at or after ``moment`` (None: none since).

    A binary search on the primary key: the log is written in arrival order, so
    ``received_at`` grows with ``id`` (to within the clock skew of the web processes).
    """
    model = callback_model()
    if model is None:
        return None
    ids = model.objects.order_by("pk").values_list("pk", flat=True)
    last = ids.reverse().first()
    if last is None or _received_at(model, last) < moment:
        return None
    low = ids.first()
    high = last
    while low < high:
        middle = (low + high) // 2
        at_or_after = ids.filter(pk__gte=middle).first()
        if _received_at(model, at_or_after) < moment:
            low = at_or_after + 1
        else:
            high = middle
    return ids.filter(pk__gte=low).first()


def _received_at(model, pk: int) -> datetime.datetime:
    return model.objects.filter(pk=pk).values_list("received_at", flat=True).get()


def callback_lag(since: datetime.datetime, until: datetime.datetime | None = None) -> Percentiles:
    """Callback received → applied, for callbacks received in [since, until)."""
    first = first_callback_id_since(since)
    end = first_callback_id_since(until) if until is not None else None
    return _callback_lag_between(first, end)


def _callback_lag_between(first: int | None, end: int | None) -> Percentiles:
    """Callbacks with ids in [first, end) (end None: to the newest)."""
    model = callback_model()
    if model is None or first is None:
        return Percentiles.empty()
    events = model.objects.filter(pk__gte=first, status__in=APPLIED_CALLBACK_STATUSES)
    if end is not None:
        events = events.filter(pk__lt=end)
    return percentiles(events, "received_at", "processed_at")


def oldest_waiting_change_at() -> datetime.datetime | None:
    """When the oldest change not yet answered by Vibes was saved."""
    return (
        Operation.objects.filter(status__in=ACTIVE_STATUSES)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def oldest_waiting_callback_at() -> datetime.datetime | None:
    """When the oldest callback not applied yet (waiting, or failed and to be retried)
    was received; the lowest id, which the waiting index serves."""
    model = callback_model()
    if model is None:
        return None
    return (
        model.objects.filter(status__in=WAITING_CALLBACK_STATUSES)
        .order_by("pk")
        .values_list("received_at", flat=True)
        .first()
    )


def calls_by_outcome(since: datetime.datetime) -> dict[str, int]:
    """Calls to Vibes made since ``since``, counted by outcome (every outcome present)."""
    rows = (
        OutboundCall.objects.filter(made_at__gte=since)
        .annotate(outcome=call_outcome)
        .values("outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = dict.fromkeys(OUTCOMES, 0)
    counts.update({row["outcome"]: row["n"] for row in rows})
    return counts


def calls_per_minute(since: datetime.datetime) -> dict[str, dict[datetime.datetime, int]]:
    """For each outcome, the calls made in each minute since ``since`` (minutes with
    none left out)."""
    rows = (
        OutboundCall.objects.filter(made_at__gte=since)
        .annotate(minute=TruncMinute("made_at"), outcome=call_outcome)
        .values("minute", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    series: dict[str, dict[datetime.datetime, int]] = {outcome: {} for outcome in OUTCOMES}
    for row in rows:
        series[row["outcome"]][row["minute"]] = row["n"]
    return series


def calls_by_status(since: datetime.datetime) -> list[tuple[str, str, str, int]]:
    """(action, HTTP status or "none", outcome, count) of the calls made since ``since``."""
    rows = (
        OutboundCall.objects.filter(made_at__gte=since)
        .annotate(outcome=call_outcome)
        .values("action", "http_status", "outcome")
        .annotate(n=Count("id"))
        .order_by("action", "http_status")
    )
    return [
        (row["action"], str(row["http_status"] or "none"), row["outcome"], row["n"]) for row in rows
    ]


def failures_by_kind() -> list[tuple[str, str, int]]:
    """(operation kind, failed or conflict, count) of the problems staff have not seen
    resolved."""
    rows = (
        Operation.objects.filter(
            status__in=(OperationStatus.FAILED, OperationStatus.CONFLICT), resolved=False
        )
        .values("kind", "status")
        .annotate(n=Count("id"))
        .order_by("kind", "status")
    )
    return [(row["kind"], row["status"], row["n"]) for row in rows]


def callback_problems() -> dict[str, int]:
    """Callbacks that failed (to be retried) or that we could not read, by status."""
    model = callback_model()
    if model is None:
        return {}
    rows = (
        model.objects.filter(status__in=("failed", "invalid"))
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {"failed": 0, "invalid": 0}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts


@dataclass(frozen=True)
class HourlyLag:
    """One hour of the chart: its start and both delays' percentiles."""

    hour: datetime.datetime
    change: Percentiles
    callback: Percentiles


def hourly_lag(hours: int = 24, now: datetime.datetime | None = None) -> list[HourlyLag]:
    """The delays hour by hour, oldest first, the last hour ending ``now``."""
    now = now or timezone.now()
    edges = [now - datetime.timedelta(hours=hours - n) for n in range(hours + 1)]
    callback_ids = [first_callback_id_since(edge) for edge in edges]
    return [
        HourlyLag(
            edges[n],
            change_lag(edges[n], edges[n + 1]),
            _callback_lag_between(callback_ids[n], callback_ids[n + 1]),
        )
        for n in range(hours)
    ]


@dataclass(frozen=True)
class LagFigures:
    """What the dashboard and /metrics show about delays over the last hour."""

    oldest_change_at: datetime.datetime | None
    oldest_callback_at: datetime.datetime | None
    change: Percentiles
    callback: Percentiles
    calls: dict[str, int]

    @staticmethod
    def _age(at: datetime.datetime | None) -> float | None:
        if at is None:
            return None
        return max(0.0, (timezone.now() - at).total_seconds())

    @property
    def oldest_change_age(self) -> float | None:
        return self._age(self.oldest_change_at)

    @property
    def oldest_callback_age(self) -> float | None:
        return self._age(self.oldest_callback_at)

    @property
    def oldest_change_text(self) -> str:
        return seconds_text(self.oldest_change_age)

    @property
    def oldest_callback_text(self) -> str:
        return seconds_text(self.oldest_callback_age)


def lag_figures(now: datetime.datetime | None = None) -> LagFigures:
    now = now or timezone.now()
    hour_ago = now - datetime.timedelta(hours=1)
    return LagFigures(
        oldest_change_at=oldest_waiting_change_at(),
        oldest_callback_at=oldest_waiting_callback_at(),
        change=change_lag(hour_ago),
        callback=callback_lag(hour_ago),
        calls=calls_by_outcome(hour_ago),
    )
