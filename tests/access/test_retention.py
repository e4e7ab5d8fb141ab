"""Retention: the sweep forgets addresses and user agents in the ledger, empties old callback
bodies and deletes old calls, in batches, and keeps every fact of the ledger."""

from __future__ import annotations

import datetime

import pytest
from django.db import models
from django.utils import timezone

from crm.models import ConsentEvent
from prefcenter.access import retention
from prefcenter.access.models import RetentionCheckpoint
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.sync.models import OutboundCall
from vibes_integration.sync.sweep import sweep

pytestmark = pytest.mark.django_db
LONG_AGO = timezone.now() - datetime.timedelta(days=400)


def _age(model, **filters) -> None:
    """Move rows back in time (test set-up only: the ledger refuses updates otherwise)."""
    field = {
        ConsentEvent: "recorded_at",
        CallbackEvent: "received_at",
        OutboundCall: "made_at",
    }[model]
    models.QuerySet(model=model).filter(**filters).update(**{field: LONG_AGO})


@pytest.fixture
def short_retention(settings):
    settings.PREFCENTER_LEDGER_NETWORK_RETENTION_DAYS = 365
    settings.PREFCENTER_CALLBACK_BODY_RETENTION_DAYS = 365
    settings.PREFCENTER_CALL_LOG_RETENTION_DAYS = 365
    return settings


def test_the_sweep_prunes_what_is_past_retention_and_nothing_else(history, short_retention):
    alice = history.alice
    old_line = ConsentEvent.objects.get(person=alice, reference="request:abc")
    _age(ConsentEvent, pk=old_line.pk)
    _age(CallbackEvent, pk=history.callback.pk)
    _age(OutboundCall, person=alice)
    facts_before = list(
        ConsentEvent.objects.order_by("pk").values_list(
            "pk", "action", "occurred_at", "disclosure_text", "opt_out_reason", "reference"
        )
    )

    sweep(schedule=False)

    old_line = ConsentEvent.objects.get(pk=old_line.pk)
    assert old_line.ip_address is None
    assert old_line.user_agent == ""
    # The recent stranger's line is younger than the cut: untouched.
    recent = ConsentEvent.objects.get(person=history.stranger)
    assert recent.ip_address == "198.51.100.9"
    assert recent.user_agent == "Stranger-UA"
    # Every fact of the ledger is still there.
    assert facts_before == list(
        ConsentEvent.objects.order_by("pk").values_list(
            "pk", "action", "occurred_at", "disclosure_text", "opt_out_reason", "reference"
        )
    )

    callback = CallbackEvent.objects.get(pk=history.callback.pk)
    assert (callback.body, callback.headers, callback.payload) == ("", {}, None)
    assert callback.event_id == "evt-alice-deals-1"
    assert callback.person_id == alice.pk

    assert not OutboundCall.objects.filter(person=alice).exists()
    assert OutboundCall.objects.filter(person=history.stranger).exists()


def test_a_callback_waiting_for_processing_keeps_its_body(history, short_retention):
    CallbackEvent.objects.filter(pk=history.callback.pk).update(status=CallbackStatus.FAILED)
    _age(CallbackEvent, pk=history.callback.pk)
    assert retention.prune_callback_bodies() == 0
    assert CallbackEvent.objects.get(pk=history.callback.pk).body != ""


def test_pruning_goes_in_bounded_batches_and_resumes_where_it_stopped(
    history, short_retention, monkeypatch
):
    monkeypatch.setattr(retention, "BATCH", 1)
    _age(ConsentEvent)
    with_network = models.Q(ip_address__isnull=False) | ~models.Q(user_agent="")
    before = ConsentEvent.objects.filter(with_network).count()
    assert before >= 2

    assert retention.prune_ledger_network(batches=1) <= 1
    checkpoint = RetentionCheckpoint.objects.get(name=retention.LEDGER)
    first_stop = checkpoint.last_id
    assert first_stop == ConsentEvent.objects.order_by("pk").first().pk

    retention.prune_ledger_network(batches=100)
    assert not ConsentEvent.objects.filter(with_network).exists()
    checkpoint.refresh_from_db()
    assert checkpoint.last_id == ConsentEvent.objects.order_by("pk").last().pk


def test_the_batch_stops_at_the_first_line_too_young(history, short_retention):
    first = ConsentEvent.objects.order_by("pk").first()
    _age(ConsentEvent, pk=first.pk)
    retention.prune_ledger_network()
    assert RetentionCheckpoint.objects.get(name=retention.LEDGER).last_id == first.pk
    assert ConsentEvent.objects.filter(person=history.stranger, ip_address__isnull=False).exists()
