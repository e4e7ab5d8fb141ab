"""Freshness: how long a change takes to reach Vibes, and a callback to change the CRM.

The processes are ``make run``'s: the site (``runserver``), ``prefcenter_worker``,
``vibes_sync --loop`` and the sandbox, on a SQLite file, with the callbacks registered to
the site. Two delays, each at a light load (10 per second, spread with jitter) and at
saturation (as fast as the clients can go):

- **page saved → Update Person received**: a subscriber's details are saved on the
  preference page (a real POST); the change is saved when the outbox row is written
  (``Operation.created_at``), and received when the sandbox logs the Update Person call
  for that person.
- **callback delivered → CRM changed**: the sandbox delivers ``subscription_added`` for
  a person; delivered is the sandbox's time of the delivery attempt, changed is the CRM
  subscription row's ``updated_at``.

All four clocks are this machine's, so the delays are differences of one clock.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from bench.harness import (
    CALLBACK_TOKEN,
    PYTHON,
    BenchError,
    Process,
    Results,
    environment,
    free_port,
    manage,
    manage_json,
    percentile,
    query,
    sandbox,
    wait_http,
)
from bench.outbound import VIBES_CREDENTIALS

LIGHT_RATE = 10.0
LIGHT_SECONDS = 20.0
SATURATION_CLIENTS = 8
SATURATION_CHANGES = 1000
TARGET_P99 = 2.0
LAYOUT = (
    "make run's layout: runserver, prefcenter_worker --interval 0.5, vibes_sync --loop, "
    "sandbox; SQLite"
)
PAGE_HOW = (
    "saved: the outbox row; received: when the sandbox's answer to the Update Person was "
    "back (our call log; the sandbox's own log keeps whole seconds), an upper bound"
)
# As scripts/run.py starts them.
SITE_OPTIONS = ("--noreload", "--insecure")
WORKER_OPTIONS = ("--queue-name", "*", "--interval", "0.5", "--no-reload", "--no-startup-delay")


def _moment(value) -> float:
    """A timestamp from SQLite (naive UTC text) or the sandbox (ISO with an offset)."""
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _paced(items: list, rate: float, action: Callable) -> None:
    """Call ``action(item)`` at ``rate`` per second (±50 % jitter), without waiting for
    earlier calls to finish (an open loop)."""
    import random

    with ThreadPoolExecutor(max_workers=16) as pool:
        due = time.perf_counter()
        futures = []
        for item in items:
            time.sleep(max(0.0, due - time.perf_counter()))
            futures.append(pool.submit(action, item))
            due += (0.5 + random.random()) / rate
        for future in futures:
            future.result()


def _flat_out(items: list, clients: int, action: Callable) -> float:
    """Call ``action`` on every item from ``clients`` threads as fast as they go."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(action, item) for item in items]:
            future.result()
    return time.perf_counter() - started


class PageClient:
    """Posts the details form of a person's preference page, with one CSRF pair."""

    def __init__(self, site: str, paths: dict[str, str]) -> None:
        import requests

        self.site = site
        self.paths = paths
        self.local = threading.local()
        first = requests.get(f"{site}{next(iter(paths.values()))}", timeout=30)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', first.text)
        if first.status_code != 200 or not found:
            raise BenchError(f"the preference page answered {first.status_code} without a form")
        self.cookie = first.cookies.get("csrftoken")
        self.token = found[1]
        self.statuses: dict[int, int] = {}
        self.lock = threading.Lock()

    def _session(self):
        import requests

        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.cookies.set("csrftoken", self.cookie)
        return self.local.session

    def save(self, external_id: str) -> None:
        response = self._session().post(
            f"{self.site}{self.paths[external_id]}",
            data={
                "csrfmiddlewaretoken": self.token,
                "action": "details",
                "first_name": f"Fresh {external_id}",
                "last_name": "Bench",
                "email": f"{external_id}@example.com",
            },
            allow_redirects=False,
            timeout=60,
        )
        with self.lock:
            self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1


def _sent(url: str, external_ids: list[str]) -> dict[str, tuple[float, float]]:
    """For each person, when the change was saved (the outbox row) and when the sandbox's
    answer to its first Update Person was back (the call log, microseconds)."""
    wanted = set(external_ids)
    rows = query(
        url,
        "SELECT p.external_person_id, o.created_at, MIN(c.made_at) FROM vibes_sync_operation o "
        "JOIN crm_person p ON p.id = o.person_id "
        "JOIN vibes_sync_outboundcall c ON c.operation_id = o.id "
        "WHERE o.kind = 'person' AND c.action = 'update_person' AND c.ok "
        "GROUP BY p.external_person_id, o.id, o.created_at",
    )
    found: dict[str, tuple[float, float]] = {}
    for ext, saved, answered in rows:
        if ext in wanted and ext not in found:
            found[ext] = (_moment(saved), _moment(answered))
    return found


def _update_person_calls(control, since_id: int | None) -> int:
    """Update Person calls (PUT to a person, by key or by external id) the sandbox logged."""
    return sum(
        1
        for call in control.calls(since_id)
        if call["method"] == "PUT"
        and "/mobiledb/persons/" in call["path"]
        and "/subscriptions" not in call["path"]
    )


def _wait_for(count: Callable[[], int], expected: int, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while count() < expected:
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: {count()} of {expected} after {seconds:.0f} s")
        time.sleep(0.25)


def _figures(lags: list[float]) -> tuple[float, float]:
    return percentile(lags, 50), percentile(lags, 99)


def _last_call_id(control) -> int | None:
    calls = control.calls()
    return calls[-1]["id"] if calls else None


def _measure_pages(url, control, client, external_ids, *, saturated: bool) -> dict:
    since = _last_call_id(control)
    started = time.perf_counter()
    if saturated:
        _flat_out(external_ids, SATURATION_CLIENTS, client.save)
    else:
        _paced(external_ids, LIGHT_RATE, client.save)
    offered = len(external_ids) / (time.perf_counter() - started)
    _wait_for(
        lambda: len(_sent(url, external_ids)),
        len(external_ids),
        120 + len(external_ids) / 20,
        "changes answered by the sandbox",
    )
    sent = _sent(url, external_ids)
    return {
        "lags": [answered - saved for saved, answered in sent.values()],
        "rate": offered,
        "count": len(external_ids),
        "logged": _update_person_calls(control, since),
    }


def _changed_at(url: str, list_pk: int) -> dict[str, float]:
    rows = query(
        url,
        "SELECT p.external_person_id, s.updated_at FROM crm_subscription s "
        f"JOIN crm_person p ON p.id = s.person_id WHERE s.subscription_list_id = {list_pk}",
    )
    return {ext: _moment(at) for ext, at in rows}


def _settle_callbacks(url: str, control) -> None:
    """Let the callbacks the page phase caused (person_updated for each Update Person) be
    delivered and applied, so that they do not queue ahead of the measured ones."""
    deadline = time.monotonic() + 300
    while True:
        try:
            control.wait_for_deliveries(timeout=20)  # within the control's HTTP timeout
            break
        except TimeoutError:
            if time.monotonic() > deadline:
                raise
    _wait_for(
        lambda: (
            1
            - int(
                query(
                    url,
                    "SELECT COUNT(*) FROM vibes_callbacks_callbackevent WHERE status = 'received'",
                )[0][0]
                > 0
            )
        ),
        1,
        300,
        "callbacks applied before the callback measure",
    )


def _measure_callbacks(url, control, list_id, list_pk, external_ids, *, saturated) -> dict:
    _settle_callbacks(url, control)
    events: dict[str, str] = {}
    triggered: dict[str, float] = {}
    lock = threading.Lock()

    def send(external_id: str) -> None:
        at = time.time()
        body = control_for_thread().trigger(
            "subscription_added", external_person_id=external_id, list_id=list_id
        )
        with lock:
            events[body["event_id"]] = external_id
            triggered[external_id] = at

    local = threading.local()

    def control_for_thread():
        from vibes_integration.sandbox.control import SandboxControl

        if not hasattr(local, "control"):
            local.control = SandboxControl(control.url)
        return local.control

    started = time.perf_counter()
    if saturated:
        _flat_out(external_ids, SATURATION_CLIENTS, send)
    else:
        _paced(external_ids, LIGHT_RATE, send)
    offered = len(external_ids) / (time.perf_counter() - started)
    wanted = set(external_ids)
    _wait_for(
        lambda: len(wanted & set(_changed_at(url, list_pk))),
        len(external_ids),
        120 + len(external_ids) / 20,
        "subscriptions the callbacks created in the CRM",
    )
    changed = _changed_at(url, list_pk)
    received = {
        events[event_id]: _moment(at)
        for event_id, at in query(
            url, "SELECT event_id, received_at FROM vibes_callbacks_callbackevent"
        )
        if event_id in events
    }
    return {
        "lags": [changed[ext] - triggered[ext] for ext in external_ids if ext in triggered],
        "after_receipt": [changed[ext] - received[ext] for ext in external_ids if ext in received],
        "rate": offered,
        "count": len(external_ids),
    }


def _row(results: Results, measure: str, load: str, figures: dict, met: bool | None, how: str):
    p50, p99 = _figures(figures["lags"])
    target = f"p99 < {TARGET_P99:.0f} s" if met is not None else "measured (no target)"
    results.add(
        f"{measure} ({load})",
        f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms",
        target,
        None if met is None else p99 < TARGET_P99,
        f"{len(figures['lags'])} of {figures['count']} measured; offered "
        f"{figures['rate']:.1f}/s; {how}",
    )


def run(results: Results, *, database_url: str, quick: bool = False) -> None:
    from vibes_integration.sandbox.control import SandboxControl

    light = int(LIGHT_RATE * (5 if quick else LIGHT_SECONDS))
    burst = 200 if quick else SATURATION_CHANGES
    persons = light + burst
    sandbox_port, site_port = free_port(), free_port()
    api_url = f"http://127.0.0.1:{sandbox_port}"
    site = f"http://127.0.0.1:{site_port}"
    env = environment(
        database_url,
        VIBES_API_URL=api_url,
        **VIBES_CREDENTIALS,
        VIBES_CALLBACK_BASE_URL=f"{site}/vibes/callbacks/{CALLBACK_TOKEN}/",
        SITE_URL=site,
    )
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(sandbox(sandbox_port, env))
        wait_http(f"{api_url}/_sandbox/config", process=server.process)
        control = SandboxControl(api_url)
        stack.callback(control.close)
        first_list = control.config()["subscription_lists"][0]
        list_id = str(first_list["id"])
        campaigns = first_list.get("acquisition_campaigns") or [{"id": ""}]
        control.set_faults(rate_limit=None)  # seeding is not measured
        manage_json("bench_persons", "--count", str(persons), "--in-vibes", env=env)
        control.set_faults(rate_limit=100)
        setup = manage_json(
            "bench_freshness_setup",
            *("--count", str(persons), "--list-id", list_id),
            *("--campaign-id", str(campaigns[0]["id"])),
            env=env,
        )
        paths = setup["paths"]
        list_pk = int(
            query(database_url, f"SELECT id FROM crm_subscriptionlist WHERE list_id = '{list_id}'")[
                0
            ][0]
        )
        site_process = stack.enter_context(
            Process(
                [PYTHON, "manage.py", "runserver", f"127.0.0.1:{site_port}", *SITE_OPTIONS],
                env,
                "freshness-site.log",
            )
        )
        stack.enter_context(
            Process(
                [PYTHON, "manage.py", "prefcenter_worker", *WORKER_OPTIONS],
                env,
                "freshness-worker.log",
            )
        )
        stack.enter_context(
            Process([PYTHON, "manage.py", "vibes_sync", "--loop"], env, "freshness-sweep.log")
        )
        wait_http(f"{site}/healthz", process=site_process.process)
        manage("vibes_callbacks", "register", "--replace", env=env)
        ids = [f"bench-{n}" for n in range(persons)]
        client = PageClient(site, paths)
        control.clear_calls()
        for load, ids_, saturated, target in (
            ("light load, 10/s", ids[:light], False, True),
            (f"saturation, {SATURATION_CLIENTS} clients", ids[light:], True, None),
        ):
            figures = _measure_pages(database_url, control, client, ids_, saturated=saturated)
            _row(
                results,
                "freshness: page saved → Update Person received",
                load,
                figures,
                target,
                f"{PAGE_HOW}; the sandbox logged {figures['logged']} Update Person calls for "
                f"{figures['count']} changes; page answers {dict(client.statuses)}; {LAYOUT}",
            )
        for load, ids_, saturated, target in (
            ("light load, 10/s", ids[:light], False, True),
            (f"saturation, {SATURATION_CLIENTS} triggering clients", ids[light:], True, None),
        ):
            figures = _measure_callbacks(
                database_url, control, list_id, list_pk, ids_, saturated=saturated
            )
            low50, low99 = _figures(figures["after_receipt"])
            _row(
                results,
                "freshness: callback delivered → CRM changed",
                load,
                figures,
                target,
                "subscription_added; delivered: when the event was asked of the sandbox (its "
                "delivery log keeps whole seconds), so its own queue counts too, an upper "
                f"bound; from our endpoint's receipt: p50 {low50 * 1000:.0f} ms, p99 "
                f"{low99 * 1000:.0f} ms; changed: the CRM subscription's updated_at; {LAYOUT}",
            )
