"""One call to Vibes, timed and written into the operation's outcome for the call log.

Runs on a sending thread: no database access. ``mark_released`` is how the rate gate
tells a thread when its slot came, so that a call's duration does not include the wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from vibes_integration.errors import VibesError
from vibes_integration.sync.reports import CallRecord, SendReport

_released = threading.local()


def mark_released() -> None:
    """Called by the rate gate when this thread may call: call durations start here."""
    _released.at = time.monotonic()


def call(outcome: SendReport, action: str, function: Callable[..., Any], *args, **kwargs) -> Any:
    """Make one call, record it in ``outcome`` and answer its value (or raise Vibes' error)."""
    _released.at = None
    started = time.monotonic()
    try:
        value = function(*args, **kwargs)
    except VibesError as exc:
        outcome.calls.append(_record(action, exc.status, False, str(exc), started))
        outcome.http_status = exc.status
        raise
    status = _success_status(action, value)
    outcome.calls.append(_record(action, status, True, "", started))
    outcome.http_status = status
    return value


def _record(action: str, status: int | None, ok: bool, error: str, started: float) -> CallRecord:
    begin = max(started, getattr(_released, "at", None) or started)
    return CallRecord(
        action=action,
        http_status=status,
        ok=ok,
        error=error[:2000],
        duration_ms=max(0, int((time.monotonic() - begin) * 1000)),
        made_at=timezone.now(),
    )


def _success_status(action: str, value: Any) -> int:
    if action == "add_person":
        return 201 if value.created else 200
    if action == "add_participant":
        return int(value.http_status)
    if action in {"unsubscribe", "find_person"}:
        return 200 if value else 404
    return 200
