"""Callback ingest: our endpoint against the insert-only ceiling, in the same gunicorn,
and the same endpoint as a REST framework view against the plain one.

The endpoints are loaded with the same connections and bodies, in turn, the order rotated
each round so that drift of a shared machine hits all alike, with a pause after each run
for the server to finish what the load left queued.

Two loads:
- saturated: 64 connections, each sending its next request as soon as the answer came.
  This gives the throughput; its latency is mostly queueing (Little's law: 64
  connections / throughput), the same for any endpoint at that throughput.
- paced: an open-loop load at a quarter of the ceiling's saturated throughput, each
  request on its own connection (``loadgen``). This gives the latency of a request to a
  server that keeps up, which is what Vibes sees on a normal day. A quarter, not more:
  the generator is Python and opens a connection per request, so on two cores it needs
  a share of the CPU itself, and at half the ceiling the server no longer has headroom.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import time
from pathlib import Path

from bench.data import subscription_added_body
from bench.harness import (
    CALLBACK_TOKEN,
    BenchError,
    Results,
    environment,
    free_port,
    gunicorn,
    parse_bench_json,
    percentile,
    query,
    wait_http,
)
from bench.loadgen import LoadResult, open_loop

LUA = Path(__file__).resolve().parent / "ingest.lua"
TOKEN = CALLBACK_TOKEN
GUNICORN_WORKERS = 4
LATENCY_TARGET_MS = 50
INSTALL_WRK = "apt-get install -y wrk"
SETTLE_SECONDS = 2
OPEN_LOOP_SHARE = 0.25
# Loaded in turn in every round: the insert-only ceiling, our endpoint (the plain view
# Vibes calls) and the same endpoint as a REST framework view (docs/callbacks.md).
CONTENDERS = (
    ("ceiling", "/bench/ceiling/"),
    ("ours", f"/vibes/callbacks/{TOKEN}/"),
    ("drf", f"/vibes/callbacks/drf/{TOKEN}/"),
)
DRF_TOLERANCE = 0.03


def _wrk(url: str, seconds: int, connections: int, prefix: str) -> dict:
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(LUA),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
            env={
                "BENCH_EVENT_PREFIX": prefix,
                "PATH": "/usr/bin:/bin:/usr/local/bin",
            },
        ).stdout
    except subprocess.CalledProcessError as exc:
        raise BenchError(f"wrk failed: {exc.stderr or exc.stdout}") from exc
    result = parse_bench_json(out)
    result["errors"] = result["errors_status"] + result["errors_connect"] + result["errors_timeout"]
    return result


def _rate(runs: list[dict]) -> float:
    return sum(r["requests"] for r in runs) / (sum(r["duration_us"] for r in runs) / 1e6)


def _median(values: list[float]) -> float:
    """The middle round's figure: one stall of a shared machine moves it less than a pooled
    percentile, and every round's figure is shown next to it."""
    return statistics.median(values)


def _rounds(values: list[float]) -> str:
    return "/".join(f"{value:.0f}" for value in values)


def _alternate(
    base: str, *, rounds: int, seconds: int, connections: int, label: str
) -> dict[str, list[dict]]:
    runs: dict[str, list[dict]] = {name: [] for name, _ in CONTENDERS}
    for n in range(rounds):
        for name, path in _order(base, n):
            runs[name].append(_wrk(path, seconds, connections, f"{name[0]}s{n}-{label}"))
            _settle()
    return runs


def _order(base: str, round_: int) -> list[tuple[str, str]]:
    """The contenders rotated by one place each round: none always goes first or last."""
    shift = round_ % len(CONTENDERS)
    rotated = CONTENDERS[shift:] + CONTENDERS[:shift]
    return [(name, f"{base}{path}") for name, path in rotated]


def _settle() -> None:
    """When wrk stops, up to 64 requests are still queued in the server; let it finish them
    so that the next run does not start behind a queue it did not cause."""
    time.sleep(SETTLE_SECONDS)


def wrk_missing(results: Results, label: str) -> None:
    for measure in (f"callback ingest ({label})", f"callback ingest latency ({label})"):
        results.add(
            measure,
            "not measured: wrk is not installed",
            ">= 0.85x ceiling; p99 < 50 ms",
            None,
            f"install it with: {INSTALL_WRK}",
        )


def run(
    results: Results,
    *,
    database_url: str,
    label: str,
    seconds: int = 3,
    rounds: int = 6,
    open_seconds: int = 6,
    open_rounds: int = 3,
    connections: int = 64,
) -> float | None:
    """Measure both loads; returns our saturated requests per second (the ingest rate)."""
    if not shutil.which("wrk"):
        wrk_missing(results, label)
        return None
    port = free_port()
    env = environment(
        database_url,
        VIBES_CALLBACK_TOKENS=TOKEN,
        VIBES_CALLBACK_ALLOWED_IPS="127.0.0.1",
    )
    base = f"http://127.0.0.1:{port}"
    with gunicorn(env, port, GUNICORN_WORKERS) as server:
        wait_http(f"{base}/healthz", process=server.process)
        warm = [
            _wrk(f"{base}/bench/ceiling/", 2, connections, f"warm-c-{label}"),
            _wrk(f"{base}/vibes/callbacks/{TOKEN}/", 2, connections, f"warm-o-{label}"),
            _wrk(f"{base}/vibes/callbacks/drf/{TOKEN}/", 2, connections, f"warm-d-{label}"),
        ]
        _settle()
        saturated = _alternate(
            base, rounds=rounds, seconds=seconds, connections=connections, label=label
        )
        ceiling_rps = _rate(saturated["ceiling"])
        paced_rate = OPEN_LOOP_SHARE * ceiling_rps
        paced = _paced(base, rounds=open_rounds, seconds=open_seconds, rate=paced_rate, label=label)
    stored = query(database_url, "SELECT COUNT(*) FROM vibes_callbacks_callbackevent")[0][0]
    sent = sum(
        warm[index]["requests"]
        + sum(r["requests"] for r in saturated[name])
        + sum(r.requests for r in paced[name])
        for index, name in ((1, "ours"), (2, "drf"))
    )

    ours_rps = _rate(saturated["ours"])
    ratio = ours_rps / ceiling_rps
    per_round = " ".join(
        f"{_rate([o]) / _rate([c]):.2f}"
        for o, c in zip(saturated["ours"], saturated["ceiling"], strict=True)
    )
    errors = sum(r["errors"] for r in saturated["ours"]) + sum(r.failures for r in paced["ours"])
    ceiling_errors = sum(r["errors"] for r in saturated["ceiling"]) + sum(
        r.failures for r in paced["ceiling"]
    )
    results.add(
        f"callback ingest ({label}, {connections} connections, saturated)",
        f"ours {ours_rps:.0f} req/s vs ceiling {ceiling_rps:.0f} req/s = {ratio:.3f}x",
        ">= 0.85x ceiling",
        ratio >= 0.85,
        f"gunicorn {GUNICORN_WORKERS} sync workers; {rounds} rounds of {seconds} s each, "
        f"rotated; ours / ceiling in each round: {per_round}; "
        "ceiling: one raw INSERT of the body; "
        f"{errors} non-2xx/errors (ceiling {ceiling_errors}); "
        f"{stored} events stored for {sent} answered requests (and those in flight when "
        "wrk stopped)",
    )
    sat = {
        name: {key: [r[f"{key}_us"] / 1000 for r in saturated[name]] for key in ("p50", "p99")}
        for name in saturated
    }
    sat_p50, sat_p99 = _median(sat["ours"]["p50"]), _median(sat["ours"]["p99"])
    results.add(
        f"callback ingest latency ({label}, saturated)",
        f"ours p50 {sat_p50:.0f} ms, p99 {sat_p99:.0f} ms; ceiling p50 "
        f"{_median(sat['ceiling']['p50']):.0f} ms, p99 {_median(sat['ceiling']['p99']):.0f} ms",
        f"p99 < {LATENCY_TARGET_MS} ms",
        sat_p99 < LATENCY_TARGET_MS and errors == 0,
        f"queueing: {connections} connections / {ours_rps:.0f} req/s = "
        f"{connections / ours_rps * 1000:.0f} ms for any endpoint at this throughput; "
        f"median of {rounds} rounds; p99 of each round: ours {_rounds(sat['ours']['p99'])} ms, "
        f"ceiling {_rounds(sat['ceiling']['p99'])} ms",
    )
    lat = {
        name: {
            "p50": [percentile(r.latencies_ms, 50) for r in paced[name]],
            "p99": [percentile(r.latencies_ms, 99) for r in paced[name]],
        }
        for name in paced
    }
    paced_p50, paced_p99 = _median(lat["ours"]["p50"]), _median(lat["ours"]["p99"])
    results.add(
        f"callback ingest latency ({label}, open loop at a quarter of the ceiling)",
        f"ours p50 {paced_p50:.1f} ms, p99 {paced_p99:.1f} ms; ceiling p50 "
        f"{_median(lat['ceiling']['p50']):.1f} ms, p99 {_median(lat['ceiling']['p99']):.1f} ms",
        f"p99 < {LATENCY_TARGET_MS} ms",
        paced_p99 < LATENCY_TARGET_MS and errors == 0,
        f"{paced_rate:.0f} req/s offered, each request on its own connection (connect "
        f"included); median of {open_rounds} rounds of {open_seconds} s; p99 of each round: ours "
        f"{_rounds(lat['ours']['p99'])} ms, ceiling {_rounds(lat['ceiling']['p99'])} ms; "
        f"{sum(r.requests for r in paced['ours'])} requests to ours, "
        f"{sum(r.requests for r in paced['ceiling'])} to the ceiling",
    )
    _drf_row(results, saturated, paced, label=label, rounds=rounds)
    return ours_rps


def _drf_row(
    results: Results,
    saturated: dict[str, list[dict]],
    paced: dict[str, list[LoadResult]],
    *,
    label: str,
    rounds: int,
) -> None:
    """The REST framework view against the plain one, loaded in the same rounds."""
    plain_rps, drf_rps = _rate(saturated["ours"]), _rate(saturated["drf"])
    ratio = drf_rps / plain_rps
    per_round = " ".join(
        f"{_rate([d]) / _rate([o]):.3f}"
        for d, o in zip(saturated["drf"], saturated["ours"], strict=True)
    )
    errors = sum(r["errors"] for r in saturated["drf"]) + sum(r.failures for r in paced["drf"])
    p99 = {name: _median([percentile(r.latencies_ms, 99) for r in paced[name]]) for name in paced}
    results.add(
        f"callback ingest, DRF view vs plain view ({label}, saturated)",
        f"DRF {drf_rps:.0f} req/s vs plain {plain_rps:.0f} req/s = {ratio:.3f}x",
        f">= {1 - DRF_TOLERANCE:.2f}x plain to register the DRF view",
        ratio >= 1 - DRF_TOLERANCE,
        f"same gunicorn, connections and bodies, {rounds} rounds rotated with the ceiling; "
        f"DRF / plain in each round: {per_round}; {errors} non-2xx/errors for the DRF view; "
        f"open loop p99: DRF {p99['drf']:.1f} ms, plain {p99['ours']:.1f} ms",
    )


def _paced(
    base: str, *, rounds: int, seconds: int, rate: float, label: str
) -> dict[str, list[LoadResult]]:
    runs: dict[str, list[LoadResult]] = {name: [] for name, _ in CONTENDERS}
    for n in range(rounds):
        for name, url in _order(base, n):
            prefix = f"{name[0]}p{n}-{label}"
            runs[name].append(
                open_loop(
                    url,
                    lambda i, prefix=prefix: subscription_added_body(f"{prefix}-{i}", i % 5000),
                    rate=rate,
                    seconds=seconds,
                )
            )
            _settle()
    return runs
