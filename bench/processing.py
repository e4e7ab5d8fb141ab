"""Callback processing: events applied per second by one and by two task workers.

Each round stores a batch of ``subscription_added`` events for known persons (the most
common callback) with their processing tasks, exactly as the endpoint stores them, then
starts ``db_worker`` processes that run until nothing is left. The rate is read from the
events' own ``processed_at`` times, so process start-up does not count. Two workers are
compared with the ingest rate measured on the same database in the same run.
"""

from __future__ import annotations

import contextlib
import time
from datetime import datetime

from bench.harness import (
    BenchError,
    Results,
    db_worker,
    environment,
    manage_json,
    query,
)

EVENTS_TABLE = "vibes_callbacks_callbackevent"


def _moment(value) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()


def _round(
    url: str, env: dict, *, label: str, workers: int, start: int, events: int, max_seconds: float
) -> dict:
    stored = manage_json(
        "bench_callbacks",
        "--count",
        str(events),
        "--start",
        str(start),
        "--prefix",
        f"{label}-w{workers}",
        env=env,
    )
    first_id = stored["first_id"]
    with contextlib.ExitStack() as stack:
        processes = [
            stack.enter_context(db_worker(env, f"{label}-{workers}-{n}", batch=True))
            for n in range(workers)
        ]
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline and any(p.poll() is None for p in processes):
            time.sleep(0.2)
        timed_out = any(p.poll() is None for p in processes)
        failed = [p for p in processes if p.poll() not in (None, 0)]
        if failed:
            raise BenchError(f"a worker failed:\n{failed[0].tail()}")
    rows = query(
        url,
        f"SELECT status, COUNT(*), MIN(processed_at), MAX(processed_at) FROM {EVENTS_TABLE} "
        f"WHERE id >= {int(first_id)} GROUP BY status",
    )
    counts = {status: count for status, count, _, _ in rows}
    done = [(lo, hi) for status, _, lo, hi in rows if status != "received" and lo is not None]
    applied = sum(count for status, count in counts.items() if status != "received")
    if applied < 2:
        raise BenchError(f"only {applied} events were processed: {counts}")
    first = min(_moment(lo) for lo, _ in done)
    last = max(_moment(hi) for _, hi in done)
    return {
        "rate": (applied - 1) / max(last - first, 1e-6),
        "applied": applied,
        "counts": counts,
        "timed_out": timed_out,
    }


def run(
    results: Results,
    *,
    database_url: str,
    label: str,
    ingest_rps: float | None,
    events: int = 1500,
    max_seconds: float = 90,
) -> None:
    env = environment(database_url)
    statements = manage_json(
        "bench_statements", env=environment(database_url, VIBES_CALLBACK_ALLOWED_IPS="127.0.0.1")
    )
    manage_json("bench_persons", "--count", str(2 * events), "--with-person-key", env=env)
    one = _round(
        database_url, env, label=label, workers=1, start=0, events=events, max_seconds=max_seconds
    )
    two = _round(
        database_url,
        env,
        label=label,
        workers=2,
        start=events,
        events=events,
        max_seconds=max_seconds,
    )
    problems = {
        status: one["counts"].get(status, 0) + two["counts"].get(status, 0)
        for status in ("failed", "invalid", "received")
    }
    kinds = ", ".join(f"{n} {kind}" for kind, n in statements["process_kinds"].items())
    detail = (
        f"SQL statements per callback: {statements['receive']} to receive it, "
        f"{statements['process']} to process it ({kinds}); "
        f"{one['applied'] + two['applied']} events applied; "
        f"left unprocessed or failed: {problems}"
        + ("; a round hit its time limit" if one["timed_out"] or two["timed_out"] else "")
    )
    if ingest_rps:
        ratio = two["rate"] / ingest_rps
        results.add(
            f"callback processing ({label})",
            f"1 worker {one['rate']:.0f} events/s, 2 workers {two['rate']:.0f} events/s "
            f"({two['rate'] / one['rate']:.2f}x); ingest {ingest_rps:.0f} req/s: "
            f"2 workers / ingest = {ratio:.2f}",
            "2 workers / ingest >= 1.0",
            ratio >= 1.0,
            detail,
        )
    else:
        results.add(
            f"callback processing ({label})",
            f"1 worker {one['rate']:.0f} events/s, 2 workers {two['rate']:.0f} events/s",
            "2 workers / ingest >= 1.0",
            None,
            detail + "; no ingest rate to compare with (ingest not measured)",
        )
