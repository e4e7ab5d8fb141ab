"""The sweep finds work nothing is going to do (a lost task, a dead worker's claim) and
does it; the commands report what they did."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm import services
from crm.choices import OptInStatus, Source
from tests.fixtures.builders import make_person
from tests.fixtures.tasks import run_ready_tasks
from tests.sync.conftest import settle, vibes_calls
from vibes_integration.sync.choices import OperationStatus
from vibes_integration.sync.claims import claim_due
from vibes_integration.sync.models import Operation
from vibes_integration.sync.sweep import sweep

pytestmark = pytest.mark.django_db


def command(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_sweep_sends_work_whose_task_was_lost(vibes_sandbox):
    persons = [make_person(first_name=f"Lost{n}") for n in range(3)]
    DBTaskResult.objects.all().delete()  # the tasks are gone; the outbox is not
    assert run_ready_tasks() == 0
    output = command("vibes_sync", "--sweep")
    assert "3 due" in output
    assert "Sent 3 operations" in output
    assert set(Operation.objects.values_list("status", flat=True)) == {OperationStatus.DONE}
    names = {p["external_person_id"] for p in vibes_sandbox.control.persons()}
    assert names == {p.external_person_id for p in persons}


def test_sweep_takes_back_work_of_a_worker_that_died_mid_call(vibes_sandbox, settings):
    person = make_person(first_name="Orphan")
    claim = claim_due(worker="a worker that will die", limit=10)
    assert [op.person_id for op in claim.operations] == [person.pk]
    DBTaskResult.objects.all().delete()
    # Within the lease nobody touches it: the worker may still be calling Vibes.
    assert sweep().released == 0
    assert not claim_due(worker="another", limit=10)
    Operation.objects.update(lease_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    report = sweep()
    assert report.released == 1 and report.due == 1
    settle()
    operation = Operation.objects.get()
    assert operation.status == OperationStatus.DONE
    assert operation.attempts == 2  # the lost attempt counts
    assert [p["external_person_id"] for p in vibes_sandbox.control.persons()] == [
        person.external_person_id
    ]


def test_a_late_answer_from_a_worker_that_lost_its_lease_changes_nothing(vibes_sandbox):
    from vibes_integration.sync.planning import build_plans
    from vibes_integration.sync.recording import Recorder
    from vibes_integration.sync.reports import Result, SendReport

    make_person(first_name="Twice")
    slow = claim_due(worker="slow", limit=10)
    Operation.objects.update(lease_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    fast = claim_due(worker="fast", limit=10)
    assert fast and fast.token != slow.token
    [plan] = build_plans(slow.operations, slow.token)
    recorder = Recorder()
    recorder.record([(plan, SendReport(result=Result.FAILED, error="late"))])
    assert recorder.counts == {"lost": 1}
    assert Operation.objects.get().status == OperationStatus.RUNNING


def test_sweep_expires_web_opt_ins_whose_text_lapsed(vibes_sandbox, deals):
    person = make_person()
    [request] = services.opt_in_request(
        person=person, mdn="+12015550161", subscription_lists=[deals], source=Source.STAFF
    )
    settle()
    request.refresh_from_db()
    assert request.status == OptInStatus.PENDING
    OptInRequestModel = type(request)
    OptInRequestModel.objects.filter(pk=request.pk).update(
        expire_date=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert sweep().expired_opt_ins == 1
    request.refresh_from_db()
    assert request.status == OptInStatus.EXPIRED
    assert person.subscriptions.get().state == "unsubscribed"
    # Expiring is Vibes' rule: nothing is sent back.
    assert not Operation.objects.filter(status=OperationStatus.PENDING).exists()


def test_status_and_retry_failed_commands(vibes_sandbox, settings):
    settings.VIBES_SYNC_MAX_ATTEMPTS = 1
    person = make_person(first_name="Once")
    vibes_sandbox.control.set_faults(fail_next=[503])
    settle()
    status = command("vibes_sync")
    assert "failed" in status and "callback backlog" in status
    assert Operation.objects.get().status == OperationStatus.FAILED
    assert "1 failed operations will be sent again" in command("vibes_sync", "--retry-failed")
    settle()
    assert Operation.objects.get().status == OperationStatus.DONE
    assert vibes_calls(vibes_sandbox)[-1]["status"] == 201
    assert person.external_person_id in {
        p["external_person_id"] for p in vibes_sandbox.control.persons()
    }


def test_bad_command_line_is_refused_clearly(db):
    with pytest.raises(CommandError, match="--interval only goes with --loop"):
        call_command("vibes_sync", "--sweep", "--interval", "5")
    with pytest.raises(CommandError, match="is not a date"):
        call_command("vibes_reconcile", "--since", "last tuesday")
    with pytest.raises(CommandError):
        call_command("vibes_backfill", "--chunk-size", "0")


@pytest.mark.django_db(transaction=True)
def test_claims_are_given_back_even_when_the_interruption_broke_the_connection():
    """Ctrl-C can land between a BEGIN reaching the database and Django noting it."""
    from django.db import connection

    from vibes_integration.sync.engine import give_back

    make_person(first_name="Interrupted")
    claim = claim_due(worker="stopped", limit=10)
    # A transaction Django does not know about, holding the locks a writer needs.
    cursor = connection.connection.cursor()
    if connection.vendor == "sqlite":
        cursor.execute("BEGIN IMMEDIATE")
        cursor.execute("SELECT id FROM vibes_sync_operation")
    else:
        cursor.execute("BEGIN")
        cursor.execute("SELECT id FROM vibes_sync_operation FOR UPDATE")
    give_back([claim.token])
    operation = Operation.objects.get()
    assert operation.status == OperationStatus.PENDING
    assert operation.attempts == 0 and operation.claim_token == ""
