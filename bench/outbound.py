"""Outbound sync: calls per second against the sandbox with a backlog of changed persons.

The persons exist in the CRM and in Vibes (the sandbox) already, as after a backfill;
then staff change each of them once (``crm.services.person_update``), which leaves one
Update Person per person in the outbox. Two ``db_worker`` processes send the backlog
(the production setup: the rate limit is shared by the workers through the database)
while the sandbox enforces its own limit of the same rate. The achieved rate comes from
the sync's own call log (``OutboundCall.made_at``, microseconds); the sandbox's log says
how many calls it received, how many it refused with 429, and for how many persons.

Right after, the same calls go through the sync's call pool and rate limiter alone
(``bench_pace``, nothing recorded): the rate the pacing reaches on this machine, so that
a shortfall of the sync can be told apart from a slow machine.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from datetime import datetime
from urllib.parse import unquote

from bench.harness import (
    PYTHON,
    BenchError,
    Process,
    Results,
    db_worker,
    environment,
    free_port,
    manage_json,
    query,
    sandbox,
    wait_http,
)

VIBES_CREDENTIALS = {
    "VIBES_COMPANY_KEY": "demo",
    "VIBES_USERNAME": "demo",
    "VIBES_PASSWORD": "demo-password",
}


def vibes_environment(database_url: str, api_url: str, rate: int, **extra: str) -> dict:
    return environment(
        database_url,
        VIBES_API_URL=api_url,
        VIBES_RATE_LIMIT=str(rate),
        **VIBES_CREDENTIALS,
        **extra,
    )


def _moment(value) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(str(value)).timestamp()


def _person_of(path: str) -> str:
    """``/companies/demo/mobiledb/persons/external/bench-7`` → ``bench-7``."""
    marker = "/persons/external/"
    if marker in path:
        return unquote(path.split(marker, 1)[1].split("/", 1)[0])
    return path


def _active(url: str) -> int:
    rows = query(
        url,
        "SELECT COUNT(*) FROM vibes_sync_operation WHERE status IN ('pending', 'running')",
    )
    return int(rows[0][0])


def _change(env: dict, persons: int, *, parallel: int) -> dict:
    """Make the backlog: one staff edit per person, in ``parallel`` processes (PostgreSQL
    commits in parallel; SQLite has one writer, so one process is as fast there)."""
    started = time.monotonic()
    share = -(-persons // parallel)
    with contextlib.ExitStack() as stack:
        processes = [
            stack.enter_context(
                Process(
                    [
                        PYTHON,
                        "manage.py",
                        "bench_change",
                        "--start",
                        str(n * share),
                        "--count",
                        str(min(share, persons - n * share)),
                    ],
                    env,
                    f"change-{n}.log",
                )
            )
            for n in range(parallel)
            if n * share < persons
        ]
        for process in processes:
            if process.wait(timeout=900) != 0:
                raise BenchError(f"bench_change failed:\n{process.tail()}")
    return {"seconds": time.monotonic() - started, "processes": len(processes)}


def run(
    results: Results,
    *,
    database_url: str,
    label: str,
    persons: int = 5000,
    rate: int = 100,
    workers: int = 2,
) -> None:
    from vibes_integration.sandbox.control import SandboxControl

    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    env = vibes_environment(database_url, api_url, rate)
    with sandbox(port, env) as server:
        wait_http(f"{api_url}/_sandbox/config", process=server.process)
        control = SandboxControl(api_url)
        try:
            # Seeding Vibes is not what is measured: no limit while it runs.
            control.set_faults(rate_limit=None)
            manage_json("bench_persons", "--count", str(persons), "--in-vibes", env=env)
            control.clear_calls()
            control.set_faults(rate_limit=rate)
            parallel = 4 if database_url.startswith("postgres") else 1
            changed = _change(env, persons, parallel=parallel)
            backlog = _active(database_url)
            if backlog != persons:
                raise BenchError(f"{persons} persons changed but {backlog} operations wait")
            deadline = time.monotonic() + persons / rate * 2 + 120
            with contextlib.ExitStack() as stack:
                processes = [
                    stack.enter_context(db_worker(env, f"outbound-{label}-{n}"))
                    for n in range(workers)
                ]
                while _active(database_url) and time.monotonic() < deadline:
                    if any(p.poll() is not None for p in processes):
                        raise BenchError(f"a worker stopped:\n{processes[0].tail()}")
                    time.sleep(0.5)
                left = _active(database_url)
            calls = control.calls()
            # The same persons again through the pool and limiter alone (see bench_pace).
            control.clear_calls()
            pacing = manage_json("bench_pace", "--count", str(min(persons, 20 * rate)), env=env)
            paced_refused = sum(1 for call in control.calls() if call["status"] == 429)
        finally:
            control.close()

    made = query(database_url, "SELECT made_at FROM vibes_sync_outboundcall")
    moments = sorted(_moment(row[0]) for row in made)
    statuses = dict(
        query(database_url, "SELECT status, COUNT(*) FROM vibes_sync_operation GROUP BY status")
    )
    logged = len(moments)
    if logged < 20:
        raise BenchError(f"the sync made {logged} calls; operations: {statuses}")
    achieved = (logged - 1) / (moments[-1] - moments[0])
    # The middle 90 % of the calls: the pace without the start and a retried call's tail.
    low, high = logged // 20, logged - 1 - logged // 20
    steady = (high - low) / (moments[high] - moments[low])
    received = len(calls)
    refused = sum(1 for call in calls if call["status"] == 429)
    distinct = len({_person_of(call["path"]) for call in calls})
    per_person = received / distinct if distinct else float("nan")
    by_status = dict(Counter(call["status"] for call in calls))
    ratio = achieved / rate
    results.add(
        f"outbound sync ({label}, {persons:,} changed persons, limit {rate}/s)",
        f"{achieved:.1f} calls/s = {ratio:.3f}x the limit; {refused} answered 429; "
        f"calls / distinct persons = {received} / {distinct} = {per_person:.2f}",
        ">= 0.95x limit, 0 answered 429, calls / persons = 1.00",
        ratio >= 0.95 and refused == 0 and f"{per_person:.2f}" == "1.00" and left == 0,
        f"backlog sent in {moments[-1] - moments[0]:.1f} s; middle 90 % of the calls at "
        f"{steady:.1f} calls/s; {workers} db_worker processes; sandbox answers {by_status}; "
        "operations "
        f"{statuses}; backlog made in {changed['seconds']:.0f} s through person_update "
        f"({changed['processes']} processes)",
    )
    results.add(
        f"outbound pacing alone ({label}, limit {rate}/s)",
        f"{pacing['rate']:.1f} calls/s = {pacing['rate'] / rate:.3f}x the limit; "
        f"{paced_refused} answered 429",
        "measured (no target): the sync's pool and limiter without a batch's database work",
        None,
        f"{pacing['calls']} Update Person calls through the sync's CallPool and shared "
        "rate limiter, recording nothing, right after the measure above",
    )
