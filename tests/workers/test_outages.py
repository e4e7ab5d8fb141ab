"""The task worker and the sweep live through real database outages and resume alone.

PostgreSQL: the worker processes reach the database through a TCP proxy in this test
process; the test cuts it (new connections refused, open ones reset, whether idle or in
the middle of a transaction) for 30 s and restores it. SQLite: the test holds an
exclusive lock on the database file for 30 s. In both, the processes are still the same
ones afterwards, and a callback posted after the outage is applied without a restart.
"""

from __future__ import annotations

import signal
import socket
import sqlite3
import time

import pytest
from django.db import connection
from django.utils import timezone

from prefcenter.workers.models import WorkerKind
from tests.e2e.processes import database_url
from tests.fixtures.callbacks import post_callback
from tests.sync.processes import wait_for
from tests.workers.processes import (
    heartbeat_of,
    person_added,
    start_sweep,
    start_task_worker,
    worker_environment,
)
from tests.workers.proxy import OutageProxy
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("open_callbacks")]

OUTAGE_SECONDS = 30
UNAVAILABLE = "the database is unavailable"
BACK = "the database answers again"


def _post(client, bodies: list[dict]) -> None:
    for body in bodies:
        response = post_callback(client, body)
        assert response.status_code == 200, response.content


def _all_processed(bodies: list[dict]) -> bool:
    ids = [body["event_id"] for body in bodies]
    return CallbackEvent.objects.filter(
        event_id__in=ids, status=CallbackStatus.PROCESSED
    ).count() == len(ids)


def _hold(started: float) -> None:
    """Keep the outage going until it has lasted OUTAGE_SECONDS."""
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))


def _assert_same_processes(processes, heartbeats) -> None:
    for process, heartbeat in zip(processes, heartbeats, strict=True):
        assert process.process.poll() is None, process.output()
        assert heartbeat_of(process).pk == heartbeat.pk  # the same process, never restarted


def _wait_for_heartbeats(processes) -> list:
    for process in processes:
        wait_for(lambda p=process: heartbeat_of(p) is not None, timeout=60, what="a heartbeat")
    return [heartbeat_of(process) for process in processes]


def _wait_for_fresh_heartbeats(processes, after) -> None:
    for process in processes:
        wait_for(
            lambda p=process: heartbeat_of(p).last_seen_at > after,
            timeout=60,
            what=f"a heartbeat after the outage ({process.output()[-2000:]})",
        )


@pytest.mark.postgres
def test_worker_and_sweep_live_through_a_30_second_postgres_outage(client, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (the SQLite variant holds a lock instead)")
    settings = connection.settings_dict
    proxy = OutageProxy((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432)))
    proxied = dict(settings, HOST="127.0.0.1", PORT=str(proxy.port))
    env = worker_environment(database_url(proxied), PREFCENTER_WORKER_STALE_SECONDS="8")
    worker = start_task_worker(env, tmp_path / "worker.log")
    sweep = start_sweep(env, tmp_path / "sweep.log")
    processes = [worker, sweep]
    try:
        heartbeats = _wait_for_heartbeats(processes)
        assert [h.kind for h in heartbeats] == [WorkerKind.TASK_WORKER, WorkerKind.SWEEP]

        before = [person_added(n) for n in range(100)]
        _post(client, before)
        wait_for(
            lambda: CallbackEvent.objects.filter(status=CallbackStatus.PROCESSED).exists(),
            timeout=60,
            what="the worker to start applying callbacks",
        )
        proxy.cut()
        cut_at = time.monotonic()
        assert proxy.connections_cut > 0  # both processes held connections: they were reset
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", proxy.port), timeout=2).close()
        for process in processes:
            wait_for(
                lambda p=process: UNAVAILABLE in p.output(),
                timeout=OUTAGE_SECONDS - 5,
                what=f"the outage to be noticed ({process.output()[-2000:]})",
            )
        _hold(cut_at)
        _assert_same_processes(processes, heartbeats)
        proxy.restore()
        restored = timezone.now()

        after = [person_added(100 + n) for n in range(3)]
        _post(client, after)
        wait_for(
            lambda: _all_processed(before + after),
            timeout=120,
            what=f"every callback to be applied ({worker.output()[-3000:]})",
        )
        _wait_for_fresh_heartbeats(processes, restored)
        for process in processes:
            wait_for(lambda p=process: BACK in p.output(), timeout=90, what="the recovery log")
        _assert_same_processes(processes, heartbeats)
    finally:
        for process in processes:
            process.kill(signal.SIGTERM)
        proxy.close()
    assert [process.process.returncode for process in processes] == [0, 0]


def test_worker_and_sweep_live_through_a_30_second_sqlite_lock(client, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant (PostgreSQL has the proxy outage)")
    env = worker_environment(
        database_url(connection.settings_dict), PREFCENTER_WORKER_STALE_SECONDS="8"
    )
    worker = start_task_worker(env, tmp_path / "worker.log")
    sweep = start_sweep(env, tmp_path / "sweep.log")
    processes = [worker, sweep]
    try:
        heartbeats = _wait_for_heartbeats(processes)
        first = [person_added(1)]
        _post(client, first)
        wait_for(lambda: _all_processed(first), timeout=60, what="the first callback applied")

        locker = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        try:
            locker.execute("BEGIN EXCLUSIVE")
            locked_at = time.monotonic()
            for process in processes:
                # SQLite gives up on a lock after its 20 s busy timeout; then it is logged.
                wait_for(
                    lambda p=process: UNAVAILABLE in p.output() or "is locked" in p.output(),
                    timeout=90,
                    what=f"the lock to be noticed ({process.output()[-2000:]})",
                )
            _hold(locked_at)
            _assert_processes_alive(processes)
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        _assert_same_processes(processes, heartbeats)
        released = timezone.now()

        after = [person_added(2)]
        _post(client, after)
        wait_for(
            lambda: _all_processed(after),
            timeout=120,
            what=f"the callback posted after the lock applied ({worker.output()[-3000:]})",
        )
        _wait_for_fresh_heartbeats(processes, released)
        _assert_same_processes(processes, heartbeats)
    finally:
        for process in processes:
            process.kill(signal.SIGTERM)
    assert [process.process.returncode for process in processes] == [0, 0]


def _assert_processes_alive(processes) -> None:
    for process in processes:
        assert process.process.poll() is None, process.output()
