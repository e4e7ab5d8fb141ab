"""Fixtures of the outbound sync tests: quick retries and a sandbox without a rate limit
unless a test asks for one."""

from __future__ import annotations

import pytest

from tests.fixtures.tasks import run_ready_tasks


@pytest.fixture
def fast_sync(settings):
    """Retries a few milliseconds apart, so that storms settle within a test."""
    settings.VIBES_SYNC_BACKOFF_BASE = 0.01
    settings.VIBES_SYNC_BACKOFF_MAX = 0.05
    settings.VIBES_SYNC_MAX_ATTEMPTS = 30
    return settings


def settle(*, timeout: float = 60.0) -> None:
    """Run queued tasks (retries included, as they fall due) until the outbox is empty."""
    import time

    from vibes_integration.sync.choices import ACTIVE_STATUSES
    from vibes_integration.sync.models import Operation

    deadline = time.monotonic() + timeout
    while True:
        run_ready_tasks()
        if not Operation.objects.filter(status__in=ACTIVE_STATUSES).exists():
            return
        if time.monotonic() > deadline:
            from django_tasks_db.models import DBTaskResult

            unfinished = list(
                Operation.objects.filter(status__in=ACTIVE_STATUSES).values(
                    "id", "status", "attempts", "next_attempt_at", "lease_expires_at", "error"
                )
            )
            tasks = list(
                DBTaskResult.objects.exclude(status="SUCCESSFUL").values(
                    "status", "run_after", "traceback"
                )
            )
            raise AssertionError(f"the outbox did not settle: {unfinished}; tasks: {tasks}")
        time.sleep(0.01)


@pytest.fixture
def sync_settle():
    return settle


def vibes_calls(sandbox, *, method: str | None = None, path_part: str = "") -> list[dict]:
    """The sandbox's call log, optionally filtered by method and a part of the path."""
    return [
        call
        for call in sandbox.control.calls()
        if (method is None or call["method"] == method) and path_part in call["path"]
    ]


@pytest.fixture
def deals(db):
    """The CRM's side of the sandbox's list 1001 (keyword DEALS, campaign AC1001)."""
    from tests.fixtures.builders import make_list

    return make_list(
        list_id="1001", name="Deals & offers", acquisition_campaign_id="AC1001", keyword="DEALS"
    )
