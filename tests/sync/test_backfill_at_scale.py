"""``vibes_backfill`` on a few thousand persons, interrupted and resumed; then
``vibes_reconcile`` over all of them finds exactly the drift there is."""

from __future__ import annotations

import io
import signal
import time

import pytest
from django.core.management import call_command

from crm import services
from crm.choices import Source
from crm.models import Person
from tests.sync.processes import ManageProcess, environment, wait_for
from vibes_integration.sync.choices import OperationStatus
from vibes_integration.sync.models import BackfillCheckpoint, Operation

pytestmark = pytest.mark.django_db(transaction=True)

PERSONS = 2000


def command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_backfill_interrupted_and_resumed_then_reconciled(vibes_sandbox, settings, tmp_path):
    settings.VIBES_RATE_LIMIT = 5000  # the sandbox enforces no limit in this test
    vibes_sandbox.control.set_faults(rate_limit=None)
    for n in range(PERSONS):
        services.person_create(
            external_person_id=f"bulk-{n:05d}", first_name=f"B{n}", source=Source.VIBES
        )
    assert not vibes_sandbox.control.persons()

    first = ManageProcess(
        "vibes_backfill",
        "--chunk-size",
        "100",
        env=environment(vibes_sandbox, VIBES_RATE_LIMIT=5000),
        log=tmp_path / "backfill.log",
    )
    try:
        wait_for(
            lambda: (
                BackfillCheckpoint.objects.filter(last_person_id__gt=0).exists()
                and Person.objects.filter(person_key__isnull=False).count() >= PERSONS // 4
            ),
            timeout=120,
            what="the backfill to get a quarter of the way",
        )
    finally:
        first.kill(signal.SIGINT)  # Ctrl-C
    assert first.process.returncode == 1, first.output()[-3000:]
    assert "Interrupted. Run the same command again to resume" in first.output()
    sent_first = Person.objects.filter(person_key__isnull=False).count()
    assert PERSONS // 4 <= sent_first < PERSONS
    assert not Operation.objects.filter(status=OperationStatus.RUNNING).exists()  # given back

    output, progress = command("vibes_backfill", "--chunk-size", "250")
    assert "Resuming an interrupted backfill" in output
    remaining = PERSONS - sent_first
    assert f"Persons processed: {remaining} of {remaining}" in output
    assert "failed (see the sync dashboard): 0" in output
    assert "100.0%" in progress  # the progress bar reached the end
    unlinked = Operation.objects.filter(person__person_key__isnull=True)
    assert not unlinked.exists(), (list(unlinked.values("status", "attempts")[:3]), output)
    assert not Person.objects.filter(person_key__isnull=True).exists()
    assert not BackfillCheckpoint.objects.exists()

    calls = vibes_sandbox.control.calls()
    # Add Person only (Update Person may answer 201 too: Vibes' documented "created").
    added = [
        c["body"]["external_person_id"]
        for c in calls
        if c["method"] == "POST"
        and c["path"].rstrip("/").endswith("/mobiledb/persons")
        and c["status"] == 201
    ]
    assert len(added) == len(set(added)) == PERSONS  # everyone added, nobody twice
    assert not [c for c in calls if c["status"] >= 400 and c["status"] != 404]
    assert len(vibes_sandbox.control.persons()) == PERSONS

    again, _ = command("vibes_backfill")
    assert "Nothing to send: Vibes knows every person." in again

    # Drift: ten persons edited in Vibes (their callbacks lost), three Vibes never got.
    client = vibes_sandbox.client()
    for n in range(10):
        client.update_person_by_external_id(
            f"bulk-{n:05d}", {"custom_fields": {"first_name": f"Vibes{n}"}}
        )
    for n in range(3):
        services.person_create(external_person_id=f"late-{n}", source=Source.VIBES)
    report, _ = command("vibes_reconcile")
    total = PERSONS + 3
    assert f"Compared {total} persons: {total - 13} in agreement, 13 repaired" in report
    taken = "Fields differ (first_name); changed in Vibes [Vibes is right; repaired: take Vibes"
    assert report.count(taken) == 10
    assert Person.objects.filter(first_name__startswith="Vibes").count() == 10
    assert report.count("Vibes does not know this person") == 3


@pytest.mark.parametrize("after_seconds", [0.2, 0.6, 1.0])
def test_ctrl_c_at_any_moment_gives_every_claim_back(vibes_sandbox, tmp_path, after_seconds):
    """Wherever Ctrl-C lands (a call, a BEGIN, a COMMIT), nothing stays claimed."""
    vibes_sandbox.control.set_faults(rate_limit=None)
    for n in range(400):
        services.person_create(external_person_id=f"ctrl-c-{n}", source=Source.VIBES)
    backfill = ManageProcess(
        "vibes_backfill",
        "--chunk-size",
        "100",
        env=environment(vibes_sandbox, VIBES_RATE_LIMIT=5000),
        log=tmp_path / "backfill.log",
    )
    try:
        wait_for(
            lambda: Person.objects.filter(person_key__isnull=False).exists(),
            timeout=60,
            what="the backfill to start sending",
        )
        time.sleep(after_seconds)
    finally:
        backfill.kill(signal.SIGINT)
    statuses = set(Operation.objects.values_list("status", flat=True))
    assert OperationStatus.RUNNING not in statuses, backfill.output()
