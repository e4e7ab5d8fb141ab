"""``GET /metrics``: the dashboard's figures in Prometheus' text format.

A collector reads the database when Prometheus scrapes, so every web process answers
the same figures and none keeps counters of its own. The endpoint is off (404) until a
token (``PREFCENTER_METRICS_TOKEN``, sent as ``Authorization: Bearer``) or an address
allowlist (``PREFCENTER_METRICS_ALLOWED_IPS``) is configured; anything else gets 403.
The metric names are documented in docs/sync.md.
"""

from __future__ import annotations

import datetime
import hmac
import ipaddress
from collections.abc import Iterable, Iterator

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from prefcenter.conf import setting
from prefcenter.workers.status import workers_status
from vibes_integration.callbacks.authentication import client_address
from vibes_integration.sync.choices import OperationStatus
from vibes_integration.sync.lag import (
    Percentiles,
    callback_problems,
    calls_by_status,
    failures_by_kind,
    lag_figures,
)
from vibes_integration.sync.selectors import sync_dashboard


def _lag(name: str, documentation: str, figures: Percentiles) -> Iterator[Metric]:
    quantiles = GaugeMetricFamily(name, documentation, labels=["quantile"])
    for quantile, value in (("0.5", figures.p50), ("0.99", figures.p99)):
        if value is not None:
            quantiles.add_metric([quantile], value)
    yield quantiles
    yield GaugeMetricFamily(
        f"{name.removesuffix('_seconds')}_observations",
        f"How many delays the quantiles of {name} were taken from (last hour).",
        value=figures.count,
    )


class SyncCollector(Collector):
    """The sync's and the callbacks' state, read from the database at scrape time."""

    def collect(self) -> Iterator[Metric]:
        dashboard = sync_dashboard()
        lag = lag_figures()
        workers = workers_status()
        yield _labelled(
            "prefcenter_sync_operations",
            "Outbound operations by state (failed and conflict: unresolved only).",
            ["status"],
            [
                ([OperationStatus.PENDING], dashboard.pending),
                ([OperationStatus.RUNNING], dashboard.running),
                ([OperationStatus.FAILED], dashboard.failed),
                ([OperationStatus.CONFLICT], dashboard.conflicts),
            ],
        )
        yield GaugeMetricFamily(
            "prefcenter_sync_oldest_waiting_change_age_seconds",
            "Age of the oldest change Vibes has not answered yet; 0 when none waits.",
            value=lag.oldest_change_age or 0.0,
        )
        yield GaugeMetricFamily(
            "prefcenter_callbacks_waiting",
            "Callbacks received and not applied yet.",
            value=workers.backlog.callbacks,
        )
        yield GaugeMetricFamily(
            "prefcenter_callbacks_oldest_waiting_age_seconds",
            "Age of the oldest callback not applied yet (waiting or to be retried); "
            "0 when none waits.",
            value=lag.oldest_callback_age or 0.0,
        )
        yield from _lag(
            "prefcenter_sync_change_lag_seconds",
            "Change saved in the CRM until Vibes answered its call, last hour.",
            lag.change,
        )
        yield from _lag(
            "prefcenter_callbacks_apply_lag_seconds",
            "Callback received until it was applied, last hour.",
            lag.callback,
        )
        yield from _counts()
        yield _labelled(
            "prefcenter_workers_seen",
            "Workers whose heartbeat is recent, by kind.",
            ["kind"],
            [(["task_worker"], workers.task_workers), (["sweep"], workers.sweeps)],
        )


def _labelled(
    name: str, documentation: str, labels: list[str], rows: Iterable[tuple[list[str], float]]
) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for values, value in rows:
        family.add_metric(values, value)
    return family


def _counts() -> Iterator[Metric]:
    """Calls of the last hour, and the problems left for staff."""
    yield _labelled(
        "prefcenter_vibes_calls_last_hour",
        "Calls to Vibes in the last hour by operation, HTTP status and outcome "
        "(ok, not_found_done: a 404 that meant done, failed).",
        ["action", "status", "outcome"],
        (
            ([action, status, outcome], count)
            for action, status, outcome, count in calls_by_status(_hour_ago())
        ),
    )
    yield _labelled(
        "prefcenter_sync_failures",
        "Unresolved failed or conflicting operations by kind.",
        ["kind", "status"],
        (([kind, status], count) for kind, status, count in failures_by_kind()),
    )
    yield _labelled(
        "prefcenter_callbacks_problems",
        "Callbacks that failed (retried) or could not be read, by status.",
        ["status"],
        (([status], count) for status, count in callback_problems().items()),
    )


def _hour_ago() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(hours=1)


def _bearer(request: HttpRequest) -> str | None:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _allowed_address(address: str | None, entries: list[str]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in entries:
        if entry == "*":
            return True
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def metrics_access(request: HttpRequest) -> int:
    """200 when the request may read the metrics, 404 when they are off, 403 otherwise."""
    token = setting("PREFCENTER_METRICS_TOKEN")
    allowed = setting("PREFCENTER_METRICS_ALLOWED_IPS")
    if not token and not allowed:
        return 404
    given = _bearer(request)
    if token and given is not None and hmac.compare_digest(given.encode(), token.encode()):
        return 200
    if allowed and _allowed_address(client_address(request), allowed):
        return 200
    return 403


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    status = metrics_access(request)
    if status == 404:
        return HttpResponse("Metrics are off.\n", status=404, content_type="text/plain")
    if status == 403:
        return HttpResponse(
            "Send Authorization: Bearer <PREFCENTER_METRICS_TOKEN>, or call from an "
            "address in PREFCENTER_METRICS_ALLOWED_IPS.\n",
            status=403,
            content_type="text/plain",
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SyncCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
