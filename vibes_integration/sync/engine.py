"""The outbound sync's worker loop: claim, read, send, record, schedule what is left.

Batches are claimed one after the other while the calls of the previous one are still in
flight, so that a backlog flows at the full rate without a pause between batches. Used
by the background task (for up to ``VIBES_SYNC_TASK_SECONDS`` per run, so that other
tasks get the worker too), by ``vibes_sync --sweep`` and by ``vibes_backfill`` (until
nothing is due). A worker killed at any point loses
nothing: until the outcome is recorded the operations stay claimed under a lease, and
when the lease expires another worker sends them again, which is harmless (see
``sending``).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections

from prefcenter.conf import setting
from vibes_integration.sync.claims import claim_due, has_due, new_claim_token, release_claim
from vibes_integration.sync.concurrency import CallPool
from vibes_integration.sync.planning import Plan, build_plans
from vibes_integration.sync.ratelimit import RateLimiter, get_rate_limiter
from vibes_integration.sync.recording import Recorder
from vibes_integration.sync.reports import Result, SendReport
from vibes_integration.sync.sending import perform

logger = logging.getLogger(__name__)


@dataclass
class BatchSummary:
    claimed: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    calls: int = 0

    def __iadd__(self, other: BatchSummary) -> BatchSummary:
        self.claimed += other.claimed
        self.counts.update(other.counts)
        self.calls += other.calls
        return self

    def as_dict(self) -> dict[str, Any]:
        return {"claimed": self.claimed, "calls": self.calls, **dict(self.counts)}


def _outcome_of(plan: Plan, result: Any) -> SendReport:
    if isinstance(result, SendReport):
        return result
    return SendReport(result=Result.FAILED, error=f"{result.__class__.__name__}: {result}")


def process_due(
    *,
    worker: str,
    person_ids: Collection[int] | None = None,
    limiter: RateLimiter | None = None,
    on_backlog: Callable[[], None] | None = None,
    max_seconds: float | None = None,
) -> BatchSummary:
    """Send due operations, batch after batch, for up to ``max_seconds``
    (``VIBES_SYNC_TASK_SECONDS`` by default).

    ``on_backlog`` is called once when more is due than the first batch holds: the task
    passes its scheduler there, so that another worker starts on the backlog meanwhile
    (this module does not schedule: ``tasks`` does, and runs this)."""
    budget = setting("VIBES_SYNC_TASK_SECONDS") if max_seconds is None else max_seconds
    deadline = time.monotonic() + budget
    batch_size = setting("VIBES_SYNC_BATCH_SIZE")
    summary = BatchSummary()
    recorder = Recorder()
    tokens: list[str] = []

    def next_plans() -> list[Plan]:
        """Claim the next batch; record at once what needs no call. Empty: nothing left."""
        while time.monotonic() < deadline:
            token = new_claim_token()
            tokens.append(token)
            claim = claim_due(worker=worker, limit=batch_size, person_ids=person_ids, token=token)
            if not claim:
                tokens.pop()
                return []
            summary.claimed += len(claim.operations)
            if on_backlog is not None and len(tokens) == 1 and has_due(person_ids):
                on_backlog()
            plans = build_plans(claim.operations, claim.token)
            recorder.record([(plan, perform(None, plan)) for plan in plans if plan.skip_reason])
            sendable = [plan for plan in plans if not plan.skip_reason]
            if sendable:
                return sendable
        return []

    def record(results: list[tuple[Plan, Any]]) -> None:
        outcomes = [(plan, _outcome_of(plan, result)) for plan, result in results]
        summary.calls += sum(len(outcome.calls) for _, outcome in outcomes)
        recorder.record(outcomes)

    try:
        first = next_plans()
        if first:
            pool = CallPool(
                limiter=limiter or get_rate_limiter(),
                concurrency=setting("VIBES_SYNC_CONCURRENCY"),
            )
            pool.run(first, perform, record, more=next_plans)
    except (KeyboardInterrupt, SystemExit):
        # Stopped on purpose (Ctrl-C, a shutdown): give back what was not recorded, so
        # that it is sent again now rather than when the lease runs out.
        give_back(tokens)
        raise
    summary.counts.update(recorder.counts)
    return summary


def give_back(tokens: list[str]) -> None:
    """Release the claims of a stopped run.

    The interruption may have hit a database call half-way (a BEGIN sent and not
    recorded, a COMMIT cut short): then this connection is closed, which rolls it back and
    frees its locks, and the claims are released on a fresh one. If even that fails, the
    leases run out and the sweep takes the work back.
    """
    if not connection.in_atomic_block:
        try:
            _release(tokens)
            return
        except DatabaseError as exc:
            logger.info("Giving back claimed operations failed (%s); reconnecting", exc)
    _abandon(connection)
    connections[DEFAULT_DB_ALIAS] = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        _release(tokens)
    except DatabaseError as exc:
        logger.warning("Could not give back claimed operations (%s); their leases will expire", exc)


def _abandon(wrapper) -> None:
    """Roll back and close a connection Django has lost track of. The raw rollback comes
    first: a statement the interruption left open (its cursor still referenced by the
    traceback) would otherwise keep SQLite's write lock past ``close()``."""
    raw = wrapper.connection
    if raw is not None:
        try:
            raw.rollback()
        except Exception as exc:
            logger.info("Rolling back the interrupted connection failed: %s", exc)
    try:
        wrapper.close()
    except DatabaseError as exc:
        logger.info("Closing the interrupted connection failed: %s", exc)


def _release(tokens: list[str]) -> None:
    for token in tokens:
        release_claim(token)


def process_until_idle(*, worker: str, person_ids: Collection[int] | None = None) -> BatchSummary:
    """Send in this process until nothing is due (retries that wait are left).

    Finishing a person's operation can make their next one due, hence the passes."""
    total = BatchSummary()
    limiter = get_rate_limiter()
    while True:
        summary = process_due(
            worker=worker,
            person_ids=person_ids,
            limiter=limiter,
            max_seconds=float("inf"),
        )
        if not summary.claimed:
            return total
        total += summary
