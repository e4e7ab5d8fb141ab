"""Shared plumbing for the benchmarks: databases, servers, processes, the results table."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / "work"
PYTHON = sys.executable
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/prefcenter_bench"
)


@dataclass
class Row:
    measure: str
    figure: str
    target: str
    met: bool | None
    detail: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)

    def add(
        self, measure: str, figure: str, target: str, met: bool | None, detail: str = ""
    ) -> None:
        row = Row(measure, figure, target, met, detail)
        self.rows.append(row)
        status = "n/a" if met is None else ("met" if met else "MISSED")
        print(f"  {measure}: {figure} (target {target}: {status}) {detail}", flush=True)

    def markdown(self) -> str:
        lines = ["| measure | figure | target | met |", "|---|---|---|---|"]
        for row in self.rows:
            status = "n/a" if row.met is None else ("yes" if row.met else "**no**")
            lines.append(f"| {row.measure} | {row.figure} | {row.target} | {status} |")
        return "\n".join(lines)


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        memory = "unknown"
    pg = (
        subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
        if shutil.which("psql")
        else "none"
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory} memory, "
        f"{platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}, {pg}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def fresh_database(kind: str) -> str:
    """Return the URL of an empty, migrated database of ``kind`` (sqlite or postgres)."""
    WORK.mkdir(parents=True, exist_ok=True)
    if kind == "sqlite":
        path = WORK / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        import psycopg

        name = POSTGRES_URL.rsplit("/", 1)[1]
        admin_url = POSTGRES_URL.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = POSTGRES_URL
    manage("migrate", "--no-input", "-v", "0", env=environment(url))
    return url


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=3):
            return True
    except Exception:
        return False


def manage(*args: str, env: dict[str, str], capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


class Process:
    """A child process that is stopped when the block ends."""

    def __init__(self, args: list[str], env: dict[str, str], log: str):
        WORK.mkdir(parents=True, exist_ok=True)
        self.log = open(WORK / log, "w")  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def __enter__(self) -> subprocess.Popen:
        return self.process

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def gunicorn(env: dict[str, str], port: int, workers: int = 4) -> Process:
    return Process(
        [
            str(Path(PYTHON).parent / "gunicorn"),
            "prefcenter.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
        ],
        env,
        f"gunicorn-{port}.log",
    )


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def parse_bench_json(output: str) -> dict:
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :])
    raise RuntimeError(f"no BENCH_JSON line in:\n{output}")
