"""Real ``prefcenter_worker`` processes: one killed with SIGKILL mid-call loses nothing; two
together never exceed the rate limit."""

from __future__ import annotations

import signal
from collections import Counter

import pytest
from django.utils import timezone

from crm import services
from crm.choices import Source
from tests.fixtures.builders import make_person
from tests.sync.processes import start_worker, wait_for
from vibes_integration.sync.choices import OperationStatus
from vibes_integration.sync.models import Operation
from vibes_integration.sync.sweep import sweep

pytestmark = pytest.mark.django_db(transaction=True)


def remote_first_names(sandbox) -> dict[str, str]:
    return {
        p["external_person_id"]: p["custom_fields"].get("first_name")
        for p in sandbox.control.persons()
    }


def test_a_worker_killed_mid_call_loses_nothing(vibes_sandbox, tmp_path):
    persons = [make_person(first_name=f"Kill{n}") for n in range(8)]
    vibes_sandbox.control.set_faults(api_delay_ms=400)  # every call takes a while
    worker = start_worker(
        vibes_sandbox,
        tmp_path / "worker.log",
        "doomed",
        VIBES_SYNC_LEASE_SECONDS=3,
        VIBES_SYNC_CONCURRENCY=2,
        VIBES_SYNC_BATCH_SIZE=4,
    )
    try:
        wait_for(
            lambda: Operation.objects.filter(status=OperationStatus.RUNNING).exists(),
            timeout=30,
            what="the worker to claim operations",
        )
        wait_for(
            lambda: len(vibes_sandbox.control.calls()) >= 1,
            timeout=30,
            what="the worker's first call to finish",
        )
    finally:
        worker.kill(signal.SIGKILL)  # in the middle of its next calls
    stranded = Operation.objects.filter(status=OperationStatus.RUNNING).count()
    assert stranded > 0, worker.output()
    assert Operation.objects.exclude(status=OperationStatus.DONE).exists()

    vibes_sandbox.control.set_faults(api_delay_ms=0)
    wait_for(
        lambda: (
            not Operation.objects.filter(
                status=OperationStatus.RUNNING, lease_expires_at__gt=timezone.now()
            ).exists()
        ),
        timeout=10,
        what="the dead worker's lease to expire",
    )
    recovery = start_worker(vibes_sandbox, tmp_path / "recovery.log", "recovery")
    try:
        # The periodic sweep (vibes_sync --loop) gives the stranded work to the new worker.
        assert sweep().released == stranded
        wait_for(
            lambda: (
                set(Operation.objects.values_list("status", flat=True)) == {OperationStatus.DONE}
            ),
            timeout=60,
            what="every operation to be done",
        )
    finally:
        recovery.kill(signal.SIGTERM)
    assert remote_first_names(vibes_sandbox) == {
        p.external_person_id: p.first_name for p in persons
    }
    calls = vibes_sandbox.control.calls()
    adds = [c for c in calls if c["method"] == "POST" and c["status"] == 201]
    assert sorted(c["body"]["external_person_id"] for c in adds) == sorted(
        p.external_person_id for p in persons
    )  # each person added once, even those whose Add Person the killed worker had sent
    assert not [c for c in calls if c["status"] == 409]
    for person in persons:
        person.refresh_from_db()
        assert person.person_key


def test_two_workers_together_never_exceed_the_rate_limit(vibes_sandbox, tmp_path):
    rate = 20
    persons = [
        make_person(first_name="Before", source=Source.VIBES, external_id_in_vibes=True)
        for _ in range(70)
    ]
    vibes_sandbox.control.set_faults(rate_limit=None)  # seeding Vibes is not measured
    client = vibes_sandbox.client()
    for person in persons:
        client.add_person({"external_person_id": person.external_person_id, "custom_fields": {}})
    for person in persons:
        services.person_update(person=person, source=Source.STAFF, first_name=f"R{person.pk}")
    vibes_sandbox.control.clear_calls()
    vibes_sandbox.control.set_faults(rate_limit=rate)  # Vibes answers 429 past the limit
    settings = {
        "VIBES_RATE_LIMIT": rate,
        "VIBES_SYNC_BATCH_SIZE": 8,
        "VIBES_SYNC_CONCURRENCY": 4,
    }
    workers = [
        start_worker(vibes_sandbox, tmp_path / f"worker-{n}.log", f"w{n}", **settings)
        for n in (1, 2)
    ]
    try:
        wait_for(
            lambda: (
                set(Operation.objects.values_list("status", flat=True)) == {OperationStatus.DONE}
            ),
            timeout=90,
            what="every operation to be done",
        )
    finally:
        for worker in workers:
            worker.kill(signal.SIGTERM)
    calls = vibes_sandbox.control.calls()
    repeated = [path for path, n in Counter(c["path"] for c in calls).items() if n > 1]
    assert len(calls) == len(persons), (  # one call per person: no 429, no retry
        [(c["at"], c["path"][-10:], c["status"]) for c in calls if c["path"] in repeated],
        list(Operation.objects.filter(attempts__gt=1).values("person_id", "attempts", "error")),
    )
    assert all(200 <= c["status"] < 300 for c in calls)
    per_second = Counter(c["at"] for c in calls)
    assert max(per_second.values()) <= rate, per_second
    assert remote_first_names(vibes_sandbox) == {p.external_person_id: f"R{p.pk}" for p in persons}
    workers_used = set(Operation.objects.values_list("claimed_by", flat=True))
    assert len({name.split("/")[-1] for name in workers_used}) == 2, workers_used
