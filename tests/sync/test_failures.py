"""429, 5xx, timeouts and connection errors are retried with backoff; nothing is lost, and
what keeps failing stays visible and can be retried by staff."""

from __future__ import annotations

import datetime
import socket

import pytest
from django.utils import timezone

from crm import services
from crm.choices import Source
from tests.fixtures.builders import make_person
from tests.fixtures.tasks import run_ready_tasks
from tests.sync.conftest import settle, vibes_calls
from vibes_integration.sync.choices import OperationStatus, SyncStatus
from vibes_integration.sync.models import Operation, OutboundCall
from vibes_integration.sync.selectors import person_sync_states
from vibes_integration.sync.services import operations_retry
from vibes_integration.sync.sweep import sweep

pytestmark = pytest.mark.django_db


def remote_names(sandbox) -> dict[str, str]:
    return {
        p["external_person_id"]: p["custom_fields"].get("first_name")
        for p in sandbox.control.persons()
    }


def edit_everyone(persons, label: str) -> None:
    for person in persons:
        services.person_update(person=person, source=Source.STAFF, first_name=f"{label}{person.pk}")


def assert_everyone_in_vibes(sandbox, persons, label: str) -> None:
    names = remote_names(sandbox)
    assert {p.external_person_id: names.get(p.external_person_id) for p in persons} == {
        p.external_person_id: f"{label}{p.pk}" for p in persons
    }
    assert set(Operation.objects.values_list("status", flat=True)) == {OperationStatus.DONE}


def test_a_429_storm_ends_with_every_person_in_vibes(vibes_sandbox, fast_sync):
    # 20 persons at 5/s take 4 s to get through: the retries (30 attempts) must span
    # longer than that, as the production backoff (up to minutes) does, or some run out.
    fast_sync.VIBES_SYNC_BACKOFF_MAX = 0.5
    persons = [make_person(first_name="Start") for _ in range(20)]
    settle()
    vibes_sandbox.control.set_faults(rate_limit=5)  # Vibes allows far less than we send
    edit_everyone(persons, "Storm")
    settle(timeout=120)
    statuses = [c["status"] for c in vibes_calls(vibes_sandbox, method="PUT")]
    assert statuses.count(429) > 0
    assert sum(200 <= status < 300 for status in statuses) >= 20
    assert_everyone_in_vibes(vibes_sandbox, persons, "Storm")
    assert OutboundCall.objects.filter(http_status=429, ok=False).exists()


def test_a_5xx_storm_ends_with_every_person_in_vibes(vibes_sandbox, fast_sync):
    persons = [make_person(first_name="Start") for _ in range(20)]
    settle()
    vibes_sandbox.control.set_faults(api_failure_rate=0.6, seed=7)
    edit_everyone(persons, "Five")
    settle(timeout=120)
    statuses = [c["status"] for c in vibes_calls(vibes_sandbox, method="PUT")]
    assert statuses.count(500) > 5
    assert_everyone_in_vibes(vibes_sandbox, persons, "Five")


def test_a_timeout_is_retried(vibes_sandbox, fast_sync):
    fast_sync.VIBES_READ_TIMEOUT = 0.2
    fast_sync.VIBES_SYNC_BACKOFF_BASE = 60  # the retry waits: the test moves time on
    fast_sync.VIBES_SYNC_BACKOFF_MAX = 60
    person = make_person(first_name="Slow")
    settle()
    vibes_sandbox.control.set_faults(api_delay_ms=600)
    services.person_update(person=person, source=Source.STAFF, first_name="Later")
    run_ready_tasks()
    operation = Operation.objects.latest("id")
    assert operation.status == OperationStatus.PENDING
    assert operation.attempts == 1 and "timed out" in operation.error
    assert operation.next_attempt_at > timezone.now() + datetime.timedelta(seconds=29)
    vibes_sandbox.control.set_faults(api_delay_ms=0)
    Operation.objects.filter(pk=operation.pk).update(next_attempt_at=timezone.now())
    run_ready_tasks()  # the task scheduled for the retry is not due yet: the sweep covers it
    sweep()
    settle()
    assert remote_names(vibes_sandbox)[person.external_person_id] == "Later"


@pytest.fixture
def refused_url():
    """A local URL whose port is taken but not listening: every connection is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as reserved:
        reserved.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{reserved.getsockname()[1]}"


def test_work_that_keeps_failing_is_marked_failed_and_staff_can_retry_it(
    vibes_sandbox, fast_sync, refused_url
):
    fast_sync.VIBES_SYNC_MAX_ATTEMPTS = 3
    sandbox_url = fast_sync.VIBES_API_URL
    fast_sync.VIBES_API_URL = refused_url
    person = make_person(first_name="Unreachable")
    settle()
    operation = Operation.objects.get()
    assert operation.status == OperationStatus.FAILED
    assert operation.attempts == 3
    assert "Gave up after 3 attempts" in operation.error
    assert "connection failed" in operation.error
    state = person_sync_states([person.pk])[person.pk]
    assert state.status == SyncStatus.FAILED and "connection failed" in state.reason

    fast_sync.VIBES_API_URL = sandbox_url
    assert operations_retry(operation_ids=[operation.pk]) == 1
    settle()
    operation.refresh_from_db()
    assert operation.status == OperationStatus.DONE
    assert remote_names(vibes_sandbox)[person.external_person_id] == "Unreachable"
    assert person_sync_states([person.pk])[person.pk].status == SyncStatus.IN_SYNC


def test_retrying_a_failed_update_while_a_newer_one_waits_sends_once(vibes_sandbox, fast_sync):
    fast_sync.VIBES_SYNC_MAX_ATTEMPTS = 1
    person = make_person(first_name="A")
    settle()
    vibes_sandbox.control.set_faults(fail_next=[503])
    services.person_update(person=person, source=Source.STAFF, first_name="B")
    settle()
    failed = Operation.objects.get(status=OperationStatus.FAILED)
    services.person_update(person=person, source=Source.STAFF, first_name="C")
    vibes_sandbox.control.clear_calls()
    operations_retry(operation_ids=[failed.pk])
    settle()
    sent = [(c["method"], c["status"], c["body"]) for c in vibes_calls(vibes_sandbox)]
    assert len(sent) == 1, sent
    assert remote_names(vibes_sandbox)[person.external_person_id] == "C"
    failed.refresh_from_db()
    assert failed.resolved
    assert person_sync_states([person.pk])[person.pk].status == SyncStatus.IN_SYNC
