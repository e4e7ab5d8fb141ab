"""The delays operators see: percentiles and ages from known timestamps, on both
databases; the dashboard's figures and chart; /metrics, its access rules and content."""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from tests.sync.lag_data import build_known_history, seconds
from vibes_integration.callbacks.models import CallbackEvent
from vibes_integration.sync import lag

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


def test_change_and_callback_percentiles_match_the_known_delays():
    history = build_known_history()
    since = history["now"] - HOUR
    change = lag.change_lag(since)
    assert change.count == 100  # the old, the merged and the waiting ones left out
    assert change.p50 == pytest.approx(50.5, abs=1e-3)
    assert change.p99 == pytest.approx(99.01, abs=1e-3)
    callback = lag.callback_lag(since)
    assert callback.count == 10
    assert callback.p50 == pytest.approx(0.55, abs=1e-3)
    assert callback.p99 == pytest.approx(0.991, abs=1e-3)


def test_oldest_waiting_change_and_callback():
    history = build_known_history()
    assert lag.oldest_waiting_change_at() == history["change_waiting_since"]
    assert lag.oldest_waiting_callback_at() == history["callback_waiting_since"]
    figures = lag.lag_figures(history["now"])
    assert figures.oldest_change_age == pytest.approx(300, abs=30)
    assert figures.oldest_callback_age == pytest.approx(90, abs=30)


def test_a_window_with_nothing_answers_no_percentiles():
    build_known_history()
    later = lag.change_lag(lag.timezone.now() + HOUR)
    assert (later.count, later.p50, later.p99) == (0, None, None)
    assert later.p50_text == "—"
    assert lag.callback_lag(lag.timezone.now() + HOUR).count == 0


def test_first_callback_since_is_found_across_gaps_in_ids():
    history = build_known_history()
    now = history["now"]
    ids = list(CallbackEvent.objects.order_by("pk").values_list("pk", flat=True))
    # Holes in the ids, as deleted or rolled-back rows leave them.
    CallbackEvent.objects.filter(pk__in=ids[3:7]).delete()
    first_of_hour = CallbackEvent.objects.filter(event_id__startswith="hour-").order_by("pk")
    expected = first_of_hour.exclude(pk__in=ids[3:7]).first().pk
    assert lag.first_callback_id_since(now - HOUR) == expected
    assert (
        lag.first_callback_id_since(now - seconds(100))
        == CallbackEvent.objects.get(event_id="waiting").pk
    )
    assert lag.first_callback_id_since(now + seconds(1)) is None
    assert lag.first_callback_id_since(now - seconds(86400)) == ids[0]


def test_calls_by_outcome_do_not_count_a_404_that_meant_done_as_a_failure():
    history = build_known_history()
    counts = lag.calls_by_outcome(history["now"] - HOUR)
    assert counts == {"ok": 2, "not_found_done": 3, "failed": 2}
    rows = lag.calls_by_status(history["now"] - HOUR)
    assert ("add_participant", "404", "failed", 1) in rows
    assert ("unsubscribe", "404", "not_found_done", 1) in rows
    per_minute = lag.calls_per_minute(history["now"] - HOUR)
    assert sum(per_minute["failed"].values()) == 2


def test_hourly_lag_puts_each_delay_in_its_hour():
    history = build_known_history()
    hours = lag.hourly_lag(24, history["now"])
    assert len(hours) == 24
    last = hours[-1]
    assert last.change.count == 100 and last.callback.count == 10
    assert last.change.p50 == pytest.approx(50.5, abs=1e-3)
    # The operation answered two hours ago to the second opens the hour before the last;
    # the callbacks received just before that are in the hour before it.
    assert hours[-2].change.count == 1 and hours[-2].callback.count == 0
    assert hours[-3].callback.count == 5 and hours[-3].change.count == 0
    assert all(hour.change.count == 0 and hour.callback.count == 0 for hour in hours[:-3])


def test_dashboard_shows_delays_the_chart_and_no_404_as_failure(admin_client):
    build_known_history()
    page = admin_client.get(reverse("admin:vibes_sync_dashboard")).content.decode()
    assert '<dd id="vibes-sync-calls-hour">7 (2)</dd>' in page
    assert '<dd id="vibes-sync-calls-not-found-done">3</dd>' in page
    assert '<dd id="vibes-sync-change-lag">50 s / 99 s <small>(100 changes)</small></dd>' in page
    assert '<dd id="vibes-sync-callback-lag">0.55 s / 0.99 s <small>(10 callbacks)</small>' in page
    assert re.search(r'<dd id="vibes-sync-oldest-change">[56] min</dd>', page)
    oldest_callback = re.search(r'<dd id="vibes-sync-oldest-callback">(\d+) s</dd>', page)
    assert oldest_callback and 90 <= int(oldest_callback[1]) < 119
    assert "<svg" in page and 'class="vibes-chart-failed"' in page
    assert 'class="vibes-chart-change-p99"' in page
    assert "<script" not in page.split('id="vibes-sync-chart"')[1].split("</figure>")[0]
    assert 'id="vibes-sync-task-workers"' in page  # the workers block stays


def test_admin_index_links_the_dashboard_for_staff_who_may_see_it(admin_client, client):
    dashboard = reverse("admin:vibes_sync_dashboard")
    assert f'href="{dashboard}"' in admin_client.get(reverse("admin:index")).content.decode()
    other = User.objects.create_user("other", is_staff=True)
    other.user_permissions.add(Permission.objects.get(codename="view_person"))
    client.force_login(other)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200 and f'href="{dashboard}"' not in index.content.decode()


def test_metrics_are_off_until_a_token_or_allowlist_is_set(client, settings):
    settings.PREFCENTER_METRICS_TOKEN = ""
    settings.PREFCENTER_METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_token_or_an_allowed_address(client, settings):
    settings.PREFCENTER_METRICS_TOKEN = "s3cret-scrape-token"
    settings.PREFCENTER_METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic czNjcmV0").status_code == 403
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("text/plain; version=")
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.post("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 405


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_export_the_dashboards_figures(client, settings):
    settings.PREFCENTER_METRICS_TOKEN = ""
    settings.PREFCENTER_METRICS_ALLOWED_IPS = ["127.0.0.1"]
    build_known_history()
    samples = _samples(client.get("/metrics").content.decode())
    assert samples[("prefcenter_sync_change_lag_seconds", (("quantile", "0.5"),))] == (
        pytest.approx(50.5, abs=1e-3)
    )
    assert samples[("prefcenter_sync_change_lag_seconds", (("quantile", "0.99"),))] == (
        pytest.approx(99.01, abs=1e-3)
    )
    assert samples[("prefcenter_sync_change_lag_observations", ())] == 100
    assert samples[("prefcenter_callbacks_apply_lag_seconds", (("quantile", "0.99"),))] == (
        pytest.approx(0.991, abs=1e-3)
    )
    assert samples[("prefcenter_sync_oldest_waiting_change_age_seconds", ())] == pytest.approx(
        300, abs=30
    )
    assert samples[("prefcenter_callbacks_oldest_waiting_age_seconds", ())] == pytest.approx(
        90, abs=30
    )
    assert samples[("prefcenter_callbacks_waiting", ())] == 1
    assert samples[("prefcenter_sync_operations", (("status", "pending"),))] == 1
    key = (("action", "update_person"), ("outcome", "not_found_done"), ("status", "404"))
    assert samples[("prefcenter_vibes_calls_last_hour", key)] == 1
    key = (("action", "add_participant"), ("outcome", "failed"), ("status", "404"))
    assert samples[("prefcenter_vibes_calls_last_hour", key)] == 1
    assert samples[("prefcenter_workers_seen", (("kind", "task_worker"),))] == 0
    assert ("prefcenter_callbacks_problems", (("status", "failed"),)) in samples


def test_a_bad_metrics_allowlist_is_refused_naming_the_variable(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from prefcenter.conf import setting

    monkeypatch.setenv("PREFCENTER_METRICS_ALLOWED_IPS", "10.0.0.0/8, not-an-address")
    with pytest.raises(
        ImproperlyConfigured, match=r"PREFCENTER_METRICS_ALLOWED_IPS.*not-an-address"
    ):
        setting("PREFCENTER_METRICS_ALLOWED_IPS")
    monkeypatch.setenv("PREFCENTER_METRICS_ALLOWED_IPS", "10.0.0.0/8, 192.0.2.7, *")
    assert setting("PREFCENTER_METRICS_ALLOWED_IPS") == ["10.0.0.0/8", "192.0.2.7", "*"]
