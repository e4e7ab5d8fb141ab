"""Shared plumbing for the benchmarks: databases, servers, processes, the results table.

Everything a measure starts is a ``Process`` used as a context manager, so it is stopped
when the measure ends, also on an error or Ctrl-C; every wait has a deadline.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where measures keep their databases, logs and quick results (``BENCH_WORK`` moves it, so
# that two benches can run on one machine without sharing files).
WORK = Path(os.environ.get("BENCH_WORK") or ROOT / "bench" / "work")
PYTHON = sys.executable
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/prefcenter_bench"
)


CALLBACK_TOKEN = "bench-callback-token-0123456789"


class BenchError(RuntimeError):
    """A measure could not be taken; the message says why."""


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
    notes: list[str] = field(default_factory=list)

    def add(
        self, measure: str, figure: str, target: str, met: bool | None, detail: str = ""
    ) -> None:
        self.rows.append(Row(measure, figure, target, met, detail))
        print(f"  {measure}: {figure} [target {target}: {status_word(met)}]", flush=True)
        if detail:
            print(f"      {detail}", flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def markdown(self) -> str:
        lines = [
            "| measure | figure | target | met |",
            "|---|---|---|---|",
        ]
        for row in self.rows:
            figure = f"{row.figure}<br>{row.detail}" if row.detail else row.figure
            met = "**no**" if row.met is False else status_word(row.met)
            lines.append(f"| {row.measure} | {figure} | {row.target} | {met} |")
        return "\n".join(lines)

    def text_table(self) -> str:
        width = max((len(row.measure) for row in self.rows), default=10)
        lines = [f"{'measure':<{width}}  {'met':<8}  figure (target)"]
        for row in self.rows:
            lines.append(
                f"{row.measure:<{width}}  {status_word(row.met):<8}  {row.figure} ({row.target})"
            )
        return "\n".join(lines)


def status_word(met: bool | None) -> str:
    return "n/a" if met is None else ("yes" if met else "MISSED")


# -- the machine ----------------------------------------------------------------------------


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def postgres_version() -> str | None:
    try:
        import psycopg

        with psycopg.connect(_admin_url(), connect_timeout=3) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception:
        return None


def load_average() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def machine_description() -> list[tuple[str, str]]:
    pg = postgres_version()
    return [
        ("Cores", str(os.cpu_count())),
        ("CPU", _cpu_model()),
        ("Memory", _memory()),
        ("OS", f"{_os_name()}, Linux {platform.release()}"),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", f"{pg} (127.0.0.1)" if pg else "not reachable"),
        ("Load average at start (1, 5, 15 min)", load_average()),
    ]


def now_text() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")


# -- databases ------------------------------------------------------------------------------


def _admin_url() -> str:
    return POSTGRES_URL.rsplit("/", 1)[0] + "/postgres"


def postgres_available() -> bool:
    return postgres_version() is not None


def database_url(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{WORK / 'bench.sqlite3'}"
    return POSTGRES_URL


def fresh_database(kind: str) -> str:
    """Return the URL of an empty, migrated database of ``kind`` (sqlite or postgres).

    The PostgreSQL database is the bench's own (``prefcenter_bench`` unless
    ``BENCH_POSTGRES_URL`` names another); it is dropped and created again.
    """
    WORK.mkdir(parents=True, exist_ok=True)
    url = database_url(kind)
    if kind == "sqlite":
        path = WORK / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        import psycopg

        name = POSTGRES_URL.rsplit("/", 1)[1]
        if name in {"postgres", "test", "template0", "template1"}:
            raise BenchError(f"refusing to drop database {name!r}: name another one")
        with psycopg.connect(_admin_url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    manage("migrate", "--no-input", "-v", "0", env=environment(url))
    return url


def drop_postgres() -> None:
    import psycopg

    name = POSTGRES_URL.rsplit("/", 1)[1]
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(url: str, sql: str) -> list[tuple]:
    """Run one read-only SQL statement against the bench database (for polling progress)."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///") :], timeout=30)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


# -- processes ------------------------------------------------------------------------------


def environment(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of every process the bench starts.

    ``VIBES_API_URL`` points at a port where nothing listens unless a measure passes its
    own sandbox: no bench process may reach a sandbox (or a Vibes) that someone else runs
    at the default address.
    """
    env = dict(os.environ)
    env.update(
        {
            "VIBES_API_URL": f"http://127.0.0.1:{free_port()}",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "VIBES_CALLBACK_TOKENS": CALLBACK_TOKEN,
        }
    )
    env.update(extra)
    return env


def manage(
    *args: str, env: dict[str, str], capture: bool = False, timeout: float = 900
) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=capture,
            text=True,
            timeout=timeout,
        )
    except subprocess.CalledProcessError as exc:
        output = ((exc.stdout or "") + (exc.stderr or ""))[-3000:]
        command = " ".join(args)
        raise BenchError(f"manage.py {command} failed ({exc.returncode}):\n{output}") from exc


def manage_json(*args: str, env: dict[str, str], timeout: float = 900) -> dict:
    """Run a bench management command and answer the JSON line it printed."""
    return parse_bench_json(manage(*args, env=env, capture=True, timeout=timeout).stdout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, timeout: float = 60, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise BenchError(f"the server for {url} stopped early (exit {process.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise BenchError(f"{url} did not answer within {timeout} s")


class Process:
    """A child process (in its own process group) that is stopped when the block ends.

    ``peak_rss_kib`` is the child's peak resident memory, read from the kernel's
    accounting when it is reaped (``wait4``), so it is exact whatever the child did.
    """

    def __init__(self, args: list[str], env: dict[str, str], log: str):
        WORK.mkdir(parents=True, exist_ok=True)
        self.log_path = WORK / log
        self.log = open(self.log_path, "w")  # noqa: SIM115 (closed in __exit__)
        self.process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.peak_rss_kib: int | None = None

    def __enter__(self) -> Process:
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        if self.process.returncode is not None:
            return self.process.returncode
        pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
        if pid == 0:
            return None
        self._reaped(status, usage)
        return self.process.returncode

    def _reaped(self, status: int, usage: resource.struct_rusage) -> None:
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.peak_rss_kib = usage.ru_maxrss

    def wait(self, timeout: float) -> int:
        """Wait for the child to end by itself; raises ``BenchError`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise BenchError(f"{self.log_path.name}: still running after {timeout:.0f} s")
            time.sleep(0.05)
        return self.process.returncode

    def stop(self, grace: float = 15) -> None:
        if self.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            while self.poll() is None:
                time.sleep(0.05)

    def tail(self, lines: int = 20) -> str:
        self.log.flush()
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        finally:
            self.log.close()


def gunicorn(env: dict[str, str], port: int, workers: int) -> Process:
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
            "--backlog",
            "2048",
            "--log-level",
            "warning",
        ],
        env,
        f"gunicorn-{port}.log",
    )


def db_worker(env: dict[str, str], name: str, *, batch: bool = False) -> Process:
    args = [PYTHON, "manage.py", "db_worker", "--queue-name", "*", "--no-startup-delay"]
    args += ["--batch"] if batch else ["--interval", "0.2"]
    return Process(args, env, f"worker-{name}.log")


def sandbox(port: int, env: dict[str, str]) -> Process:
    return Process(
        [PYTHON, "manage.py", "vibes_sandbox", "--port", str(port)],
        env,
        f"sandbox-{port}.log",
    )


# -- figures --------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def parse_bench_json(output: str) -> dict:
    for line in reversed(output.splitlines()):
        if line.startswith("BENCH_JSON "):
            return json.loads(line[len("BENCH_JSON ") :])
    raise BenchError(f"no BENCH_JSON line in:\n{output[-3000:]}")


def print_json(data: dict) -> None:
    """How a bench management command hands its figures to ``run.py``."""
    print("BENCH_JSON " + json.dumps(data), flush=True)
