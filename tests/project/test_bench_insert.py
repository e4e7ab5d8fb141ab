"""The insert measure of ``make bench`` compares like with like: both inserts write the
same row, and the request it times is the callback endpoint's, answered 2xx."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from bench.harness import CALLBACK_TOKEN, parse_bench_json
from bench.management.commands import bench_insert
from vibes_integration.callbacks.models import CallbackEvent

pytestmark = pytest.mark.django_db

COMPARED = [f.name for f in CallbackEvent._meta.concrete_fields if f.name not in {"id", "event_id"}]


def test_the_orm_insert_and_the_hand_built_one_write_the_same_row():
    values = bench_insert._values()
    bench_insert.HAND_BUILT(values)
    bench_insert.orm_insert({**values, "event_id": values["event_id"] + "-orm"})
    hand, orm = (
        CallbackEvent.objects.filter(event_id__startswith=values["event_id"])
        .order_by("id")
        .values(*COMPARED)
    )
    assert hand == orm


def test_the_measure_runs_both_sides_and_reports_ratios(settings, capsys):
    settings.VIBES_CALLBACK_TOKENS = [CALLBACK_TOKEN]
    call_command(bench_insert.Command(), rounds=2, inserts=8, requests=4, stderr=io.StringIO())
    figures = parse_bench_json(capsys.readouterr().out)
    assert len(figures["request"]["round_ratios"]) == 2
    assert figures["insert"]["ratio"] > 0 and figures["request"]["ratio"] > 0
    assert bench_insert.services._insert is bench_insert.HAND_BUILT  # put back
    # each side: a warm-up of a quarter, then 2 rounds; inserts, then requests
    assert figures["rows"] == 2 * (8 // 4 + 2 * 8) + 2 * (4 // 4 + 2 * 4)
