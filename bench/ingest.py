"""Callback ingest: our endpoint against the insert-only ceiling, in the same gunicorn.

Both endpoints are loaded by wrk with the same connections and bodies, alternately
(ceiling, ours, ceiling, ours) so that drift of a shared machine hits both alike.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bench.harness import Results, environment, free_port, gunicorn, parse_bench_json, wait_http

LUA = Path(__file__).resolve().parent / "ingest.lua"
TOKEN = "bench-callback-token-0123456789"


def _wrk(url: str, seconds: int, connections: int, prefix: str) -> dict:
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
        env={"BENCH_EVENT_PREFIX": prefix, "PATH": "/usr/bin:/bin"},
    ).stdout
    result = parse_bench_json(out)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def run(
    results: Results, *, database_url: str, label: str, seconds: int = 10, connections: int = 64
) -> float | None:
    """Returns our endpoint's requests per second (the ingest rate for later measures)."""
    if not shutil.which("wrk"):
        results.add(
            f"callback ingest ({label})",
            "not measured",
            ">= 0.85x ceiling",
            None,
            "wrk is not installed: apt-get install -y wrk",
        )
        return None
    port = free_port()
    env = environment(
        database_url,
        VIBES_CALLBACK_TOKENS=TOKEN,
        VIBES_CALLBACK_ALLOWED_IPS="127.0.0.1",
        ALLOWED_HOSTS="127.0.0.1",
    )
    base = f"http://127.0.0.1:{port}"
    with gunicorn(env, port):
        wait_http(f"{base}/healthz")
        _wrk(f"{base}/bench/ceiling/", 2, connections, f"warm-c-{label}")
        _wrk(f"{base}/vibes/callbacks/{TOKEN}/", 2, connections, f"warm-o-{label}")
        runs = {"ceiling": [], "ours": []}
        for round_ in range(2):
            runs["ceiling"].append(
                _wrk(f"{base}/bench/ceiling/", seconds, connections, f"c{round_}-{label}")
            )
            runs["ours"].append(
                _wrk(f"{base}/vibes/callbacks/{TOKEN}/", seconds, connections, f"o{round_}-{label}")
            )

    def total(kind: str, key: str) -> float:
        return sum(r[key] for r in runs[kind])

    ceiling_rps = total("ceiling", "requests") / (total("ceiling", "duration_us") / 1e6)
    ours_rps = total("ours", "requests") / (total("ours", "duration_us") / 1e6)
    ours_p50 = max(r["p50_us"] for r in runs["ours"]) / 1000
    ours_p99 = max(r["p99_us"] for r in runs["ours"]) / 1000
    ceiling_p99 = max(r["p99_us"] for r in runs["ceiling"]) / 1000
    errors = sum(
        r["errors_status"] + r["errors_connect"] + r["errors_timeout"] for r in runs["ours"]
    )
    ratio = ours_rps / ceiling_rps
    results.add(
        f"callback ingest ({label}, {connections} connections)",
        f"{ours_rps:.0f} req/s vs ceiling {ceiling_rps:.0f} req/s = {ratio:.2f}x",
        ">= 0.85x ceiling",
        ratio >= 0.85,
    )
    results.add(
        f"callback ingest latency ({label})",
        f"p50 {ours_p50:.1f} ms, p99 {ours_p99:.1f} ms (ceiling p99 {ceiling_p99:.1f} ms); "
        f"{errors} errors",
        "p99 < 50 ms, 0 errors",
        ours_p99 < 50 and errors == 0,
    )
    return ours_rps
