"""Backfill memory: peak resident memory of ``vibes_backfill`` for 10,000 and 100,000 persons.

The real command sends every person to the sandbox. Sending 100,000 persons at 100 calls
per second would take most of an hour, so for this measure only the sandbox enforces no
limit and ``VIBES_RATE_LIMIT`` is raised (the table says so): memory, not pacing, is
what is measured. The peak is the kernel's own count for the process (``ru_maxrss``,
read when the bench reaps it), so nothing is missed between two samples.
"""

from __future__ import annotations

import subprocess
import time

from bench.harness import (
    PYTHON,
    ROOT,
    BenchError,
    Process,
    Results,
    environment,
    free_port,
    fresh_database,
    manage_json,
    sandbox,
    wait_http,
)
from bench.outbound import vibes_environment

COMMAND = "vibes_backfill"
FLAT_TOLERANCE = 1.15


def command_exists(env: dict) -> bool:
    probe = subprocess.run(
        [PYTHON, "manage.py", COMMAND, "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return probe.returncode == 0


def _measure(kind: str, persons: int, rate: int, timeout: float) -> dict:
    from vibes_integration.sandbox.control import SandboxControl

    url = fresh_database(kind)
    port = free_port()
    api_url = f"http://127.0.0.1:{port}"
    env = vibes_environment(url, api_url, rate)
    seeded = manage_json("bench_persons", "--count", str(persons), env=env)
    with sandbox(port, env) as server:
        wait_http(f"{api_url}/_sandbox/config", process=server.process)
        control = SandboxControl(api_url, timeout=120)
        try:
            control.set_faults(rate_limit=None)
            started = time.monotonic()
            with Process(
                [PYTHON, "manage.py", COMMAND], env, f"backfill-{kind}-{persons}.log"
            ) as backfill:
                code = backfill.wait(timeout)
                if code != 0:
                    raise BenchError(f"{COMMAND} exited {code}:\n{backfill.tail()}")
                peak_kib = backfill.peak_rss_kib
            seconds = time.monotonic() - started
            in_vibes = len(control.persons())
        finally:
            control.close()
    if in_vibes != persons:
        raise BenchError(f"{COMMAND} left Vibes with {in_vibes} of {persons} persons")
    return {
        "peak_mib": peak_kib / 1024,
        "seconds": seconds,
        "seed_seconds": seeded["seconds"],
        "persons": persons,
    }


def run(
    results: Results,
    *,
    kind: str,
    sizes: tuple[int, int] = (10_000, 100_000),
    rate: int = 1000,
) -> None:
    measure = f"backfill peak memory ({kind})"
    target = f"flat: {sizes[1]:,} persons <= {FLAT_TOLERANCE}x {sizes[0]:,} persons"
    if not command_exists(environment(fresh_database(kind))):
        results.add(
            measure,
            f"not measured: manage.py {COMMAND} does not exist",
            target,
            None,
        )
        return
    # Bounded, but generous: the command sends a few dozen persons per second here.
    small = _measure(kind, sizes[0], rate, timeout=max(600, sizes[0] / 15))
    large = _measure(kind, sizes[1], rate, timeout=max(600, sizes[1] / 15))
    ratio = large["peak_mib"] / small["peak_mib"]
    results.add(
        measure,
        f"{sizes[0]:,} persons: {small['peak_mib']:.0f} MiB; {sizes[1]:,} persons: "
        f"{large['peak_mib']:.0f} MiB ({ratio:.2f}x)",
        target,
        ratio <= FLAT_TOLERANCE,
        f"the real command against the sandbox, which enforced no limit, with "
        f"VIBES_RATE_LIMIT={rate} for this measure only; it ran {small['seconds']:.0f} s "
        f"and {large['seconds']:.0f} s",
    )
