"""Processing as a task: failures are kept, retried with backoff, and can be replayed."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm import services
from crm.choices import SubscriptionState
from crm.models import Subscription
from tests.fixtures.callbacks import (
    CALLBACK_TASK_PATH,
    callback_body,
    deliver,
    post_callback,
    process_callbacks,
)
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.callbacks.recording import MAX_ATTEMPTS, retry_delay
from vibes_integration.callbacks.services import callback_event_replay, callback_event_resolve

pytestmark = pytest.mark.usefixtures("open_callbacks")


class DatabaseHiccup:
    """Makes ``crm.services.subscription_change`` fail the way a deadlock would."""

    def __init__(self, monkeypatch, failures: int) -> None:
        self.failures = failures
        self.real = services.subscription_change
        monkeypatch.setattr(services, "subscription_change", self)

    def __call__(self, **kwargs):
        if self.failures:
            self.failures -= 1
            raise OperationalError("deadlock detected")
        return self.real(**kwargs)


def _retry_tasks():
    return DBTaskResult.objects.filter(task_path=CALLBACK_TASK_PATH, status="READY")


def _make_retries_due() -> None:
    _retry_tasks().update(run_after=timezone.now() - datetime.timedelta(seconds=1))


@pytest.mark.django_db
def test_a_failure_keeps_its_error_and_traceback_and_is_retried_with_backoff(client, monkeypatch):
    DatabaseHiccup(monkeypatch, failures=1)
    before = timezone.now()

    event = deliver(client, callback_body("subscription_added"))

    assert event.status == CallbackStatus.FAILED
    assert event.attempts == 1
    assert event.error == "OperationalError: deadlock detected"
    assert "Traceback (most recent call last)" in event.traceback
    assert "subscription_change" in event.traceback
    assert event.person_key == "PK-ALICE-01"
    assert not Subscription.objects.exists()
    [retry] = _retry_tasks()
    assert retry.args_kwargs["kwargs"] == {"attempt": 2}
    assert before + datetime.timedelta(seconds=23) < retry.run_after
    assert retry.run_after < timezone.now() + datetime.timedelta(seconds=37)
    assert event.next_attempt_at == retry.run_after
    assert process_callbacks() == 0  # not due yet

    _make_retries_due()
    assert process_callbacks() == 1

    event.refresh_from_db()
    assert event.status == CallbackStatus.PROCESSED
    assert event.attempts == 2
    assert event.error == ""
    assert event.traceback == ""
    assert event.next_attempt_at is None
    assert Subscription.objects.get().state == SubscriptionState.SUBSCRIBED


@pytest.mark.django_db
def test_it_gives_up_after_the_last_attempt_and_stays_visible(client, monkeypatch):
    DatabaseHiccup(monkeypatch, failures=MAX_ATTEMPTS)
    deliver(client, callback_body("subscription_added"))
    for _ in range(MAX_ATTEMPTS - 1):
        _make_retries_due()
        assert process_callbacks() == 1

    event = CallbackEvent.objects.get()
    assert event.status == CallbackStatus.FAILED
    assert event.attempts == MAX_ATTEMPTS
    assert event.next_attempt_at is None
    assert not _retry_tasks().exists()
    assert "Gave up after 8 attempts" in event.notes[-1]

    # After the fix, staff replay it.
    callback_event_replay(callback_events=[event])
    process_callbacks()
    event.refresh_from_db()
    assert event.status == CallbackStatus.PROCESSED


@pytest.mark.django_db
def test_a_replay_makes_the_scheduled_retry_do_nothing(client, monkeypatch):
    DatabaseHiccup(monkeypatch, failures=1)
    event = deliver(client, callback_body("subscription_added"))
    assert event.status == CallbackStatus.FAILED

    callback_event_replay(callback_events=[event])
    assert process_callbacks() == 1  # the replay; the retry is not due
    event.refresh_from_db()
    assert event.status == CallbackStatus.PROCESSED
    assert event.attempts == 2

    _make_retries_due()
    assert process_callbacks() == 1
    event.refresh_from_db()
    assert event.attempts == 2
    assert event.status == CallbackStatus.PROCESSED


@pytest.mark.django_db
def test_mark_resolved_only_takes_problems_off_the_list(client):
    invalid = deliver(client, {"event_id": "evt-broken", "callback_type": "subscription_added"})
    fine = deliver(client, callback_body("subscription_list_added"))
    assert invalid.status == CallbackStatus.INVALID

    assert callback_event_resolve(callback_events=[invalid, fine], by="staff-ann") == 1

    invalid.refresh_from_db()
    fine.refresh_from_db()
    assert invalid.status == CallbackStatus.RESOLVED
    assert "staff-ann" in invalid.notes[-1]
    assert fine.status == CallbackStatus.PROCESSED


@pytest.mark.django_db
def test_a_resolved_event_is_not_retried(client, monkeypatch):
    DatabaseHiccup(monkeypatch, failures=1)
    event = deliver(client, callback_body("subscription_added"))
    callback_event_resolve(callback_events=[event], by="staff-ann")

    _make_retries_due()
    process_callbacks()

    event.refresh_from_db()
    assert event.status == CallbackStatus.RESOLVED
    assert not Subscription.objects.exists()


def test_the_backoff_grows_and_is_capped():
    assert datetime.timedelta(seconds=24) <= retry_delay(1) <= datetime.timedelta(seconds=36)
    assert datetime.timedelta(seconds=96) <= retry_delay(2) <= datetime.timedelta(seconds=144)
    assert retry_delay(20) <= datetime.timedelta(hours=6) * 1.2


@pytest.mark.django_db(transaction=True)
def test_db_worker_batch_processes_everything_pending_and_exits(client):
    for name in ("subscription_list_added", "subscription_added", "person_added"):
        assert post_callback(client, callback_body(name)).status_code == 200
    assert CallbackEvent.objects.filter(status=CallbackStatus.RECEIVED).count() == 3

    call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay")

    statuses = set(CallbackEvent.objects.values_list("status", flat=True))
    assert statuses == {CallbackStatus.PROCESSED}


def _replay(*args: str) -> str:
    import io

    out = io.StringIO()
    call_command("vibes_callbacks", "replay", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_replay_command_by_id_failed_invalid_and_stuck(client, monkeypatch):
    from django.core.management import CommandError

    DatabaseHiccup(monkeypatch, failures=1)
    failed = deliver(client, callback_body("subscription_added"))
    invalid = deliver(client, {"event_id": "evt-broken-2", "callback_type": "person_added"})
    stuck = callback_body("subscription_list_added")
    post_callback(client, stuck)  # stored; its processing run "lost"
    DBTaskResult.objects.all().delete()
    CallbackEvent.objects.filter(event_id=stuck["event_id"]).update(
        received_at=timezone.now() - datetime.timedelta(minutes=30)
    )

    assert "1 callback event(s) queued" in _replay("--failed")
    assert "1 callback event(s) queued" in _replay("--invalid")
    assert "1 callback event(s) queued" in _replay("--stuck", "10")
    assert "1 callback event(s) queued" in _replay(invalid.event_id)
    with pytest.raises(CommandError, match="No callback event with id: nope"):
        _replay("nope")
    with pytest.raises(CommandError, match="Name event ids"):
        _replay()

    process_callbacks()
    statuses = dict(CallbackEvent.objects.values_list("event_id", "status"))
    assert statuses[failed.event_id] == CallbackStatus.PROCESSED
    assert statuses[stuck["event_id"]] == CallbackStatus.PROCESSED
    assert statuses[invalid.event_id] == CallbackStatus.INVALID


@pytest.mark.django_db
def test_register_without_a_usable_callback_url_says_what_to_set(settings):
    from django.core.management import CommandError

    settings.VIBES_CALLBACK_BASE_URL = "not a url"
    with pytest.raises(CommandError, match="VIBES_CALLBACK_BASE_URL='not a url'"):
        call_command("vibes_callbacks", "register")
