"""``GET /healthz/workers`` and the sync dashboard tell a stopped worker from an idle one."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from prefcenter.conf import setting
from prefcenter.workers.heartbeat import Heartbeat
from prefcenter.workers.models import WorkerHeartbeat, WorkerKind
from prefcenter.workers.outage import MAX_DELAY, Outage
from tests.fixtures.builders import make_person
from tests.fixtures.callbacks import callback_body, post_callback

pytestmark = pytest.mark.django_db

URL = "/healthz/workers"


def _received_callback(client) -> None:
    response = post_callback(client, callback_body("person_added", event_id="new"))
    assert response.status_code == 200, response.content


def _age(heartbeat: Heartbeat, seconds: float) -> None:
    WorkerHeartbeat.objects.filter(pk=heartbeat.row_id).update(
        last_seen_at=timezone.now() - datetime.timedelta(seconds=seconds)
    )


def test_nothing_waiting_is_ok_without_any_worker(client):
    response = client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["workers"]["task_workers_seen"] == 0
    assert body["backlog"]["total"] == 0
    assert body["backlog"]["oldest_waiting_seconds"] is None
    assert "no-cache" in response["Cache-Control"]
    assert client.post(URL).status_code == 405


def test_work_waiting_and_no_worker_is_503_with_the_backlog(client, open_callbacks):
    _received_callback(client)
    make_person(first_name="Waiting")  # an outbox operation due now, and its task

    response = client.get(URL)

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    backlog = body["backlog"]
    assert backlog["callbacks_received"] == 1
    assert backlog["operations_due"] == 1
    assert backlog["tasks_ready"] >= 2  # callback processing and the sync's task
    assert backlog["total"] == 1 + 1 + backlog["tasks_ready"]
    assert backlog["oldest_waiting_seconds"] >= 0
    assert datetime.datetime.fromisoformat(backlog["oldest_waiting"]) <= timezone.now()


def test_a_fresh_task_worker_makes_it_200_and_a_stale_or_stopped_one_does_not(
    client, open_callbacks, settings
):
    settings.PREFCENTER_WORKER_STALE_SECONDS = 60
    _received_callback(client)
    heartbeat = Heartbeat(WorkerKind.TASK_WORKER)
    assert heartbeat.beat()

    body = client.get(URL).json()
    assert client.get(URL).status_code == 200
    assert body["workers"]["task_workers_seen"] == 1
    assert body["workers"]["stale_after_seconds"] == 60
    assert body["backlog"]["callbacks_received"] == 1  # still reported when healthy

    _age(heartbeat, 61)
    assert client.get(URL).status_code == 503
    settings.PREFCENTER_WORKER_STALE_SECONDS = 120  # the limit is a setting
    assert client.get(URL).status_code == 200

    heartbeat.stop()
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["workers"]["last_seen"] is not None


def test_a_sweep_alone_does_not_count_as_a_task_worker(client, open_callbacks):
    _received_callback(client)
    Heartbeat(WorkerKind.SWEEP).beat()

    response = client.get(URL)

    assert response.status_code == 503
    assert response.json()["workers"]["sweeps_seen"] == 1


def test_the_load_balancer_probe_is_unchanged(client, open_callbacks):
    _received_callback(client)
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_heartbeats_are_written_at_a_bounded_rate(settings):
    settings.PREFCENTER_WORKER_STALE_SECONDS = 120
    heartbeat = Heartbeat(WorkerKind.TASK_WORKER)

    assert heartbeat.beat() is True
    first = WorkerHeartbeat.objects.get().last_seen_at
    assert heartbeat.beat() is False  # within the interval: nothing written
    assert WorkerHeartbeat.objects.get().last_seen_at == first
    assert heartbeat.beat(force=True) is True
    row = WorkerHeartbeat.objects.get()
    assert row.last_seen_at > first
    assert (row.kind, row.pid, row.stopped_at) == (WorkerKind.TASK_WORKER, heartbeat.pid, None)


def test_a_heartbeat_row_deleted_under_a_process_is_written_again():
    heartbeat = Heartbeat(WorkerKind.SWEEP)
    heartbeat.beat()
    WorkerHeartbeat.objects.all().delete()

    heartbeat.beat(force=True)

    assert WorkerHeartbeat.objects.get().pk == heartbeat.row_id


def test_rows_of_processes_long_gone_are_pruned():
    old = Heartbeat(WorkerKind.TASK_WORKER)
    old.beat()
    _age(old, 8 * 24 * 3600)

    Heartbeat(WorkerKind.TASK_WORKER).beat()

    assert not WorkerHeartbeat.objects.filter(pk=old.row_id).exists()
    assert WorkerHeartbeat.objects.count() == 1


def test_the_stale_setting_is_validated(monkeypatch):
    monkeypatch.setenv("PREFCENTER_WORKER_STALE_SECONDS", "soon")
    with pytest.raises(ImproperlyConfigured, match="PREFCENTER_WORKER_STALE_SECONDS"):
        setting("PREFCENTER_WORKER_STALE_SECONDS")
    monkeypatch.setenv("PREFCENTER_WORKER_STALE_SECONDS", "0")
    with pytest.raises(ImproperlyConfigured, match="greater than zero"):
        setting("PREFCENTER_WORKER_STALE_SECONDS")


def test_outage_retries_are_logged_and_their_waits_bounded(caplog):
    waits: list[float] = []
    outage = Outage("Test worker", sleep=waits.append)
    caplog.set_level(logging.WARNING, logger="prefcenter.workers.outage")

    for _attempt in range(8):
        outage.failed(ConnectionError("connection refused"))
    outage.succeeded()
    outage.succeeded()

    assert waits == sorted(waits)
    assert waits[0] < waits[1] < waits[2]
    assert waits[-1] == MAX_DELAY and max(waits) == MAX_DELAY
    messages = [record.getMessage() for record in caplog.records]
    assert sum("the database is unavailable (ConnectionError" in m for m in messages) == 8
    assert sum("answers again after 8 failed attempts" in m for m in messages) == 1


def test_the_dashboard_warns_when_work_waits_and_no_worker_is_seen(admin_client, client):
    from django.test import override_settings

    with override_settings(
        VIBES_CALLBACK_CREDENTIALS=[], VIBES_CALLBACK_TOKENS=[], VIBES_CALLBACK_ALLOWED_IPS=["*"]
    ):
        _received_callback(client)
    url = reverse("admin:vibes_sync_dashboard")

    page = admin_client.get(url).content.decode()
    assert 'id="vibes-sync-workers-stale"' in page
    assert "no task worker has been seen" in page
    assert 'id="vibes-sync-task-workers">0<' in page

    Heartbeat(WorkerKind.TASK_WORKER).beat()
    page = admin_client.get(url).content.decode()
    assert 'id="vibes-sync-workers-stale"' not in page
    assert 'id="vibes-sync-task-workers">1<' in page
    assert 'id="vibes-sync-sweep-stale"' in page  # no sweep yet: said separately

    Heartbeat(WorkerKind.SWEEP).beat()
    page = admin_client.get(url).content.decode()
    assert 'id="vibes-sync-sweep-stale"' not in page
    assert 'id="vibes-sync-sweeps">1<' in page
    assert "ago" in page.split('id="vibes-sync-last-heartbeat">', 1)[1][:80]


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_is_503_too(client, tmp_path):
    from django.db import connection

    from tests.fixtures.callbacks import database_unreachable

    connection.close()
    with database_unreachable(tmp_path):
        response = client.get(URL)
    connection.close()

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "unreachable"}
