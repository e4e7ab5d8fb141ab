"""Real ``prefcenter_worker`` and ``vibes_sync --loop`` processes write their heartbeats,
idle as well as busy, and mark them stopped on a clean stop."""

from __future__ import annotations

import signal

import pytest
from django.db import connection

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
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("open_callbacks")]


def test_idle_workers_beat_are_seen_and_say_when_they_stop(client, settings, tmp_path):
    # Two seconds before a worker counts as gone: heartbeats every half second.
    env = worker_environment(
        database_url(connection.settings_dict), PREFCENTER_WORKER_STALE_SECONDS="2"
    )
    worker = start_task_worker(env, tmp_path / "worker.log")
    sweep = start_sweep(env, tmp_path / "sweep.log")
    processes = [worker, sweep]
    try:
        for process in processes:
            wait_for(lambda p=process: heartbeat_of(p) is not None, timeout=60, what="a row")
        rows = [heartbeat_of(process) for process in processes]
        assert [row.kind for row in rows] == [WorkerKind.TASK_WORKER, WorkerKind.SWEEP]
        for process, row in zip(processes, rows, strict=True):
            # Nothing to do, and still the row moves on: an idle worker is alive.
            wait_for(
                lambda p=process, r=row: heartbeat_of(p).last_seen_at > r.last_seen_at,
                timeout=30,
                what=f"an idle heartbeat ({process.output()[-1500:]})",
            )
            assert heartbeat_of(process).started_at == row.started_at

        settings.PREFCENTER_WORKER_STALE_SECONDS = 30
        body = person_added(7)
        assert post_callback(client, body).status_code == 200
        wait_for(
            lambda: (
                CallbackEvent.objects.get(event_id=body["event_id"]).status
                == CallbackStatus.PROCESSED
            ),
            timeout=60,
            what="the callback applied",
        )
        response = client.get("/healthz/workers")
        assert response.status_code == 200, response.content
        assert response.json()["workers"]["task_workers_seen"] == 1
        assert response.json()["workers"]["sweeps_seen"] == 1
    finally:
        for process in processes:
            process.kill(signal.SIGTERM)
    assert [process.process.returncode for process in processes] == [0, 0]
    for process in processes:
        assert heartbeat_of(process).stopped_at is not None
    assert client.get("/healthz/workers").json()["workers"]["task_workers_seen"] == 0
