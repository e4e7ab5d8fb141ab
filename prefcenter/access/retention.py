"""Retention: personal data in logs is kept only as long as the settings say.

Run by the periodic sweep (``vibes_sync --loop``). Each kind is pruned in batches of
``BATCH`` rows by primary key (one short statement each, no lock on a whole table), at most
``MAX_BATCHES`` per sweep, so a first sweep over years of history spreads over several
runs instead of holding the database. What is kept forever, and why: docs/access.md.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.services.retention import consent_events_forget_network
from prefcenter.access.models import RetentionCheckpoint
from prefcenter.conf import setting
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.sync.models import OutboundCall

BATCH = 500
MAX_BATCHES = 20
#: Callbacks still waiting for processing keep their body: processing reads it.
WAITING = (CallbackStatus.RECEIVED, CallbackStatus.FAILED)
LEDGER = "crm.ConsentEvent:network"
CALLBACKS = "vibes_callbacks.CallbackEvent:body"


@dataclass(frozen=True)
class RetentionReport:
    ledger_lines_blanked: int
    callback_bodies_emptied: int
    calls_deleted: int


def _cutoff(name: str) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=setting(name))


def _checkpoint(name: str) -> RetentionCheckpoint:
    checkpoint, _created = RetentionCheckpoint.objects.get_or_create(name=name)
    return checkpoint


def prune_ledger_network(*, batches: int = MAX_BATCHES) -> int:
    before = _cutoff("PREFCENTER_LEDGER_NETWORK_RETENTION_DAYS")
    checkpoint = _checkpoint(LEDGER)
    total = 0
    for _ in range(batches):
        changed, last_id = consent_events_forget_network(
            after_id=checkpoint.last_id, before=before, limit=BATCH
        )
        if last_id is None:
            break
        total += changed
        checkpoint.last_id = last_id
        checkpoint.save(update_fields=["last_id", "updated_at"])
    return total


def _empty_callback_bodies(*, after_id: int, before: datetime.datetime) -> tuple[int, int | None]:
    """One batch of the callback log, cut at the first event not old enough (ids grow
    with arrival)."""
    ids = []
    rows = CallbackEvent.objects.filter(pk__gt=after_id).order_by("pk")
    for pk, received_at in rows.values_list("pk", "received_at")[:BATCH]:
        if received_at >= before:
            break
        ids.append(pk)
    if not ids:
        return 0, None
    with transaction.atomic():
        emptied = (
            CallbackEvent.objects.filter(pk__in=ids)
            .exclude(status__in=WAITING)
            .filter(~Q(body="") | ~Q(headers={}) | Q(payload__isnull=False))
            .update(body="", headers={}, payload=None)
        )
    return emptied, ids[-1]


def prune_callback_bodies(*, batches: int = MAX_BATCHES) -> int:
    before = _cutoff("PREFCENTER_CALLBACK_BODY_RETENTION_DAYS")
    checkpoint = _checkpoint(CALLBACKS)
    total = 0
    for _ in range(batches):
        emptied, last_id = _empty_callback_bodies(after_id=checkpoint.last_id, before=before)
        if last_id is None:
            break
        total += emptied
        checkpoint.last_id = last_id
        checkpoint.save(update_fields=["last_id", "updated_at"])
    return total


def prune_call_log(*, batches: int = MAX_BATCHES) -> int:
    before = _cutoff("PREFCENTER_CALL_LOG_RETENTION_DAYS")
    total = 0
    for _ in range(batches):
        ids = list(
            OutboundCall.objects.filter(made_at__lt=before)
            .order_by("made_at")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            break
        deleted, _by_model = OutboundCall.objects.filter(pk__in=ids).delete()
        total += deleted
    return total


def retention_sweep() -> RetentionReport:
    return RetentionReport(
        ledger_lines_blanked=prune_ledger_network(),
        callback_bodies_emptied=prune_callback_bodies(),
        calls_deleted=prune_call_log(),
    )
