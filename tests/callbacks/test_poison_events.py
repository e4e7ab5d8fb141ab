"""A failing event fails alone: it is recorded failed, retried with backoff, and the
events behind it are applied, whatever it raises and wherever (the handler, the database,
or the recording of its own failure)."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm import services
from crm.choices import SubscriptionState
from crm.models import Person, Subscription
from tests.fixtures.builders import make_list, make_person
from tests.fixtures.callbacks import (
    CALLBACK_TASK_PATH,
    callback_body,
    post_callback,
    process_callbacks,
)
from vibes_integration.callbacks import parsing, processing, recording
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.callbacks.recording import MAX_ATTEMPTS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_callbacks")]

VALID = 100
POISON_ID = "evt-poison"


def _subscription_added(index: int) -> dict[str, Any]:
    body = callback_body("subscription_added", event_id=f"evt-valid-{index:03d}")
    key = f"PK-VALID-{index:03d}"
    body["subscription"]["person"] = {"person_key": key, "external_id": f"crm-valid-{index:03d}"}
    return body


def _poison() -> bytes:
    """A person_added with lone surrogates, written as JSON writes them (``\\udc00``)."""
    body = callback_body("person_added", event_id=POISON_ID, note="\udc00")
    body["person"]["custom_fields"]["first_name"] = "Ren\udc00e"
    raw = json.dumps(body)
    assert "\\udc00" in raw
    return raw.encode()


def _post_poison_then_valid(client) -> None:
    """The poison first, then 100 valid callbacks: half for persons the CRM knows (applied
    together), half for persons it does not (applied one by one)."""
    make_list(list_id="1001", name="Deals")
    for index in range(0, VALID, 2):
        make_person(external_person_id=f"crm-valid-{index:03d}", person_key=f"PK-VALID-{index:03d}")
    assert post_callback(client, _poison()).status_code == 200
    for index in range(VALID):
        assert post_callback(client, _subscription_added(index)).status_code == 200


def _statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in CallbackEvent.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def _assert_the_valid_ones_applied() -> None:
    valid = CallbackEvent.objects.exclude(event_id=POISON_ID)
    assert set(valid.values_list("status", flat=True)) == {CallbackStatus.PROCESSED}
    assert valid.count() == VALID
    subscribed = Subscription.objects.filter(
        subscription_list__list_id="1001", state=SubscriptionState.SUBSCRIBED
    )
    assert subscribed.count() == VALID


def _nul_removed_only(value: Any) -> Any:
    """What parsing did before strings were made storable: NUL removed, surrogates kept."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_nul_removed_only(item) for item in value]
    if isinstance(value, dict):
        return {key: _nul_removed_only(item) for key, item in value.items()}
    return value


def _retries_of(callback_event: CallbackEvent):
    return DBTaskResult.objects.filter(
        task_path=CALLBACK_TASK_PATH, status="READY", args_kwargs__args=[callback_event.pk]
    )


def _make_retries_due() -> None:
    DBTaskResult.objects.filter(task_path=CALLBACK_TASK_PATH, status="READY").update(
        run_after=timezone.now() - datetime.timedelta(seconds=1)
    )


def test_a_lone_surrogate_body_is_applied_with_the_character_replaced(client):
    _post_poison_then_valid(client)

    process_callbacks()

    assert _statuses() == {CallbackStatus.PROCESSED: VALID + 1}
    _assert_the_valid_ones_applied()
    poison = CallbackEvent.objects.get(event_id=POISON_ID)
    assert poison.payload["note"] == "\ufffd"
    assert Person.objects.get(person_key="PK-BRUNO-02").first_name == "Ren\ufffde"
    assert "\\udc00" in poison.body  # the raw body is kept as it arrived


def test_the_lone_surrogate_body_failing_as_before_fails_alone_and_100_valid_ones_apply(
    client, monkeypatch
):
    """The body as it failed before strings were made storable: applying it raises (on
    PostgreSQL when its payload is written), and so does recording its failure in full."""
    monkeypatch.setattr(parsing, "storable", _nul_removed_only)
    _post_poison_then_valid(client)
    before_processing = timezone.now()

    process_callbacks()

    assert _statuses() == {CallbackStatus.PROCESSED: VALID, CallbackStatus.FAILED: 1}
    _assert_the_valid_ones_applied()
    poison = CallbackEvent.objects.get(event_id=POISON_ID)
    assert poison.attempts == 1
    assert poison.error
    assert "Traceback" in poison.traceback
    assert not Person.objects.filter(person_key="PK-BRUNO-02").exists()
    if connection.vendor == "postgresql":  # jsonb refused the payload: recorded plainly
        assert "Recording this failure in full raised too: DataError" in poison.traceback
    [retry] = _retries_of(poison)
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}
    assert poison.next_attempt_at == retry.run_after
    assert before_processing + datetime.timedelta(seconds=20) < retry.run_after

    # Later runs are not held up by it: it is not waiting any more.
    assert post_callback(client, _subscription_added(VALID)).status_code == 200
    process_callbacks()
    assert CallbackEvent.objects.get(event_id=f"evt-valid-{VALID:03d}").status == "processed"
    poison.refresh_from_db()
    assert (poison.status, poison.attempts) == (CallbackStatus.FAILED, 1)

    # Its retry runs when due, fails again, and the next one waits longer.
    first_wait = poison.next_attempt_at - poison.processed_at
    _make_retries_due()
    process_callbacks()
    poison.refresh_from_db()
    assert (poison.status, poison.attempts) == (CallbackStatus.FAILED, 2)
    assert poison.next_attempt_at - poison.processed_at > first_wait


def test_the_poison_event_gives_up_after_the_last_attempt_and_stays_visible(client, monkeypatch):
    monkeypatch.setattr(parsing, "storable", _nul_removed_only)
    assert post_callback(client, _poison()).status_code == 200

    process_callbacks()
    for _ in range(MAX_ATTEMPTS - 1):
        _make_retries_due()
        process_callbacks()

    poison = CallbackEvent.objects.get(event_id=POISON_ID)
    assert (poison.status, poison.attempts) == (CallbackStatus.FAILED, MAX_ATTEMPTS)
    assert poison.next_attempt_at is None
    assert not _retries_of(poison).exists()
    assert f"Gave up after {MAX_ATTEMPTS} attempts" in poison.notes[-1]


class DatabaseErrorFor:
    """Makes the ledger write of one person's callback run a statement the database
    refuses: a real database error, which on PostgreSQL also aborts the transaction."""

    def __init__(self, monkeypatch, person_key: str) -> None:
        self.person_key = person_key
        self.real = services.consent_record
        monkeypatch.setattr(services, "consent_record", self)

    def __call__(self, **kwargs):
        if kwargs["person"].person_key == self.person_key:
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table_for_this_test")
        return self.real(**kwargs)


def _post_valid(client, count: int) -> None:
    make_list(list_id="1001", name="Deals")
    for index in range(count):
        assert post_callback(client, _subscription_added(index)).status_code == 200


def _assert_one_failed_alone(failing: str, count: int) -> CallbackEvent:
    assert _statuses() == {CallbackStatus.PROCESSED: count - 1, CallbackStatus.FAILED: 1}
    failed = CallbackEvent.objects.get(status=CallbackStatus.FAILED)
    assert failed.event_id == failing
    assert "no_such_table_for_this_test" in failed.error
    assert failed.attempts == 1
    assert _retries_of(failed).count() == 1
    subscribed = Subscription.objects.filter(state=SubscriptionState.SUBSCRIBED)
    assert subscribed.count() == count - 1
    return failed


def test_a_handler_raising_a_database_error_mid_batch_fails_alone(client, monkeypatch):
    _post_valid(client, 60)
    DatabaseErrorFor(monkeypatch, "PK-VALID-030")

    process_callbacks()

    failed = _assert_one_failed_alone("evt-valid-030", 60)
    assert failed.person_key == "PK-VALID-030"  # recorded in full
    assert failed.error.split(":")[0] in {"ProgrammingError", "OperationalError"}


def test_a_failure_whose_full_record_raises_is_recorded_plainly(client, monkeypatch):
    _post_valid(client, 60)
    DatabaseErrorFor(monkeypatch, "PK-VALID-030")
    real_mark_failed = recording.mark_failed

    def mark_failed_breaking_the_transaction(callback_event_id, exc, trace):
        real_mark_failed(callback_event_id, exc, trace)
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_either")

    monkeypatch.setattr(recording, "mark_failed", mark_failed_breaking_the_transaction)

    process_callbacks()

    failed = _assert_one_failed_alone("evt-valid-030", 60)
    assert "Recording this failure in full raised too" in failed.traceback
    assert "no_such_table_either" in failed.traceback


def test_when_no_failure_can_be_recorded_in_the_batch_each_event_gets_its_own_transaction(
    client, monkeypatch
):
    _post_valid(client, 60)
    DatabaseErrorFor(monkeypatch, "PK-VALID-030")

    def record_failure_breaking(callback_event_id, exc, trace):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_either")

    monkeypatch.setattr(processing, "record_failure", record_failure_breaking)

    process_callbacks()

    failed = _assert_one_failed_alone("evt-valid-030", 60)
    assert "Recording this failure in full raised too" in failed.traceback
    runs = DBTaskResult.objects.filter(
        task_path="vibes_integration.callbacks.tasks.process_received_callback_events"
    ).exclude(status="READY")
    assert set(runs.values_list("status", flat=True)) == {"SUCCESSFUL"}


def test_an_event_whose_failure_cannot_be_written_at_all_does_not_stop_the_run(client, monkeypatch):
    _post_valid(client, 10)
    DatabaseErrorFor(monkeypatch, "PK-VALID-004")

    def nothing_can_be_written(*args):
        raise DatabaseError("the database is gone")

    monkeypatch.setattr(processing, "record_failure", nothing_can_be_written)
    monkeypatch.setattr(processing, "mark_failed_plainly", nothing_can_be_written)

    process_callbacks()

    assert _statuses() == {CallbackStatus.PROCESSED: 9, CallbackStatus.RECEIVED: 1}
    assert CallbackEvent.objects.get(status=CallbackStatus.RECEIVED).event_id == "evt-valid-004"
