"""The processing run applies waiting events in batches, one transaction per batch.

A batch must behave like events applied one by one: an event that fails changes nothing
and is retried while the others stay applied, and two workers on the same backlog apply
each event once.
"""

from __future__ import annotations

import datetime
import json
import threading

import pytest
from django.db import OperationalError, connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm import services
from crm.choices import Source, SubscriptionState
from crm.models import ConsentEvent, Person, Subscription
from tests.fixtures.callbacks import (
    CALLBACK_TASK_PATH,
    callback_body,
    post_callback,
    process_callbacks,
)
from vibes_integration.callbacks import processing
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.callbacks.services import callback_event_store

pytestmark = pytest.mark.usefixtures("open_callbacks")


def _subscription_added(index: int) -> dict:
    """A ``subscription_added`` for a person of its own (unknown to the CRM until then)."""
    key = f"PK-BATCH-{index:03d}"
    body = callback_body("subscription_added", event_id=f"evt-batch-{index:03d}")
    body["subscription"]["person"] = {
        "person_key": key,
        "external_id": f"crm-batch-{index:03d}",
        "url": f"/companies/demo/mobiledb/persons/{key}",
    }
    return body


class ConsentFailsFor:
    """Makes the ledger write of one person's callbacks raise, after their subscription
    is already written, ``times`` times."""

    def __init__(self, monkeypatch, person_key: str, times: int) -> None:
        self.person_key = person_key
        self.times = times
        self.real = services.consent_record
        monkeypatch.setattr(services, "consent_record", self)

    def __call__(self, **kwargs):
        if kwargs["person"].person_key == self.person_key and self.times:
            self.times -= 1
            raise OperationalError("deadlock detected")
        return self.real(**kwargs)


def _record_one_by_one(monkeypatch) -> list[int]:
    """The events processed one per transaction because their batch could not commit."""
    fallen_back: list[int] = []
    real = processing.callback_event_process

    def recording(callback_event_id, **kwargs):
        if kwargs.get("skip_locked"):
            fallen_back.append(callback_event_id)
        return real(callback_event_id, **kwargs)

    monkeypatch.setattr(processing, "callback_event_process", recording)
    return fallen_back


def _ledger(event_id: str) -> int:
    return ConsentEvent.objects.filter(reference=f"callback:{event_id}").count()


def _statuses() -> dict[str, tuple[str, int]]:
    return {
        event_id: (status, attempts)
        for event_id, status, attempts in CallbackEvent.objects.values_list(
            "event_id", "status", "attempts"
        )
    }


@pytest.mark.django_db
def test_a_failing_event_in_a_batch_changes_nothing_and_the_others_stay_applied(
    client, monkeypatch
):
    bodies = [_subscription_added(index) for index in range(3)]
    for body in bodies:
        assert post_callback(client, body).status_code == 200
    ConsentFailsFor(monkeypatch, "PK-BATCH-001", times=1)

    process_callbacks()  # one processing run: the three events in one batch

    assert _statuses() == {
        "evt-batch-000": (CallbackStatus.PROCESSED, 1),
        "evt-batch-001": (CallbackStatus.FAILED, 1),
        "evt-batch-002": (CallbackStatus.PROCESSED, 1),
    }
    for index in (0, 2):
        subscription = Subscription.objects.get(person__person_key=f"PK-BATCH-{index:03d}")
        assert subscription.state == SubscriptionState.SUBSCRIBED
        assert _ledger(f"evt-batch-{index:03d}") == 1
    # Nothing of the failed event is left: not the person it created, not the subscription.
    assert not Person.objects.filter(person_key="PK-BATCH-001").exists()
    assert _ledger("evt-batch-001") == 0
    failed = CallbackEvent.objects.get(event_id="evt-batch-001")
    assert failed.error == "OperationalError: deadlock detected"
    assert "consent_record" in failed.traceback
    assert failed.person_key == "PK-BATCH-001"
    [retry] = DBTaskResult.objects.filter(task_path=CALLBACK_TASK_PATH, status="READY")
    assert retry.args_kwargs["args"] == [failed.pk]
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}
    assert failed.next_attempt_at == retry.run_after

    DBTaskResult.objects.filter(pk=retry.pk).update(
        run_after=timezone.now() - datetime.timedelta(seconds=1)
    )
    process_callbacks()

    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (CallbackStatus.PROCESSED, 2)
    assert Subscription.objects.get(person__person_key="PK-BATCH-001").state == (
        SubscriptionState.SUBSCRIBED
    )
    assert _ledger("evt-batch-001") == 1
    assert ConsentEvent.objects.count() == 3


@pytest.mark.django_db
def test_a_batch_that_cannot_be_committed_is_processed_again_event_by_event(client, monkeypatch):
    bodies = [_subscription_added(index) for index in range(3)]
    for body in bodies:
        assert post_callback(client, body).status_code == 200
    ConsentFailsFor(monkeypatch, "PK-BATCH-001", times=2)
    real_record_failure = processing.record_failure
    breaks = [OperationalError("server closed the connection unexpectedly")]

    def record_failure_breaking_once(*args):
        if breaks:
            raise breaks.pop()
        return real_record_failure(*args)

    monkeypatch.setattr(processing, "record_failure", record_failure_breaking_once)

    process_callbacks()

    # The batch was rolled back as a whole (attempts included), then each event was
    # processed in its own transaction: the failing one is recorded, the others applied.
    assert _statuses() == {
        "evt-batch-000": (CallbackStatus.PROCESSED, 1),
        "evt-batch-001": (CallbackStatus.FAILED, 1),
        "evt-batch-002": (CallbackStatus.PROCESSED, 1),
    }
    assert [_ledger(body["event_id"]) for body in bodies] == [1, 0, 1]
    assert not Person.objects.filter(person_key="PK-BATCH-001").exists()


@pytest.mark.django_db
def test_a_list_created_by_a_failed_event_is_not_reused_by_the_next_in_the_batch(
    client, monkeypatch
):
    fallen_back = _record_one_by_one(monkeypatch)
    bodies = [_subscription_added(index) for index in range(2)]
    for body in bodies:
        body["subscription"]["subscription_list"]["id"] = "7007"
        assert post_callback(client, body).status_code == 200
    # The first event creates list 7007, then fails: its rollback takes the list with it.
    ConsentFailsFor(monkeypatch, "PK-BATCH-000", times=1)

    process_callbacks()

    assert _statuses() == {
        "evt-batch-000": (CallbackStatus.FAILED, 1),
        "evt-batch-001": (CallbackStatus.PROCESSED, 1),
    }
    subscription = Subscription.objects.get(person__person_key="PK-BATCH-001")
    assert subscription.subscription_list.list_id == "7007"
    assert CallbackEvent.objects.get(event_id="evt-batch-001").subscription_list_id == (
        subscription.subscription_list_id
    )
    # The batch committed as it was: no event had to be processed again one by one.
    assert fallen_back == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_backlog_apply_each_event_exactly_once(monkeypatch):
    services.subscription_list_upsert(list_id="1001", source=Source.STAFF, name="Deals")
    events = 60
    for index in range(events):
        assert callback_event_store(
            body=json.dumps(_subscription_added(index)).encode(),
            method="POST",
            headers={},
            remote_addr="127.0.0.1",
            authenticated_as="open",
        )
    applied: list[int] = []
    real_apply = processing._apply

    def recording_apply(callback_event, *args):
        applied.append(callback_event.pk)
        return real_apply(callback_event, *args)

    monkeypatch.setattr(processing, "_apply", recording_apply)
    start = threading.Barrier(2)
    handled: dict[str, int] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            start.wait()
            # Small batches, so that each worker claims several while the other works.
            handled[name] = processing.callback_events_process_received(batch=7)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(handled.values()) == events
    assert sorted(applied) == sorted(CallbackEvent.objects.values_list("pk", flat=True))
    assert set(_statuses().values()) == {(CallbackStatus.PROCESSED, 1)}
    assert Subscription.objects.filter(state=SubscriptionState.SUBSCRIBED).count() == events
    references = list(ConsentEvent.objects.values_list("reference", flat=True))
    assert len(references) == len(set(references)) == events
