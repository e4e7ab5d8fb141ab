"""The product's own processes (sandbox, task worker, sweep) started the way an operator would.

Each process writes its output to a log file under ``test-artifacts/e2e/logs/``, so that a
failing end-to-end test can be read after the fact, and runs in its own process group, so
that stopping it also stops anything it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.fixtures.browser import ARTIFACTS_DIR

ROOT = Path(__file__).resolve().parents[2]
E2E_ARTIFACTS = ARTIFACTS_DIR / "e2e"
LOG_DIR = E2E_ARTIFACTS / "logs"

# The test run's own configuration must not leak into a process given its own.
_CONFIG_VARIABLES = (
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_ENV",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "EMAIL_URL",
    "SITE_URL",
    "CACHE_URL",
    "PREFCENTER_RUN_SITE",
    "PREFCENTER_RUN_SANDBOX_PORT",
    "PREFCENTER_VAR_DIR",
    "PREFCENTER_ADMIN_USERNAME",
    "PREFCENTER_ADMIN_PASSWORD",
)


def process_environment(**values: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _CONFIG_VARIABLES and not name.startswith("VIBES_")
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(settings_dict: dict[str, Any]) -> str:
    """The URL of the database a connection uses (the test database, during tests)."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    if engine.endswith("postgresql"):
        user = quote(settings_dict.get("USER") or "", safe="")
        password = quote(settings_dict.get("PASSWORD") or "", safe="")
        credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or "5432"
        return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"
    raise NotImplementedError(f"No database URL for {engine}")


class ManagedProcess:
    """One ``manage.py`` command running in the background."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.log_path = LOG_DIR / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            process_group=0,
        )

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def assert_running(self) -> None:
        assert self.running, (
            f"{self.name} stopped (exit {self.popen.returncode}):\n{self.log_tail()}"
        )

    def wait_for_url(self, url: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.assert_running()
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"{self.name} did not answer at {url}:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.1)

    def stop(self, timeout: float = 15) -> int:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self._log.close()
        return self.popen.returncode


def eventually(
    check: Callable[[], Any],
    *,
    what: str,
    timeout: float = 30,
    interval: float = 0.3,
    diagnostics: Callable[[], str] | None = None,
) -> Any:
    """Call ``check`` until it returns something truthy; fail with ``what`` after ``timeout``.

    A bounded wait for another process to catch up, never a measure of how long it took.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            details = diagnostics() if diagnostics else ""
            raise AssertionError(f"Still waiting, after {timeout:.0f} s, for {what}.\n{details}")
        time.sleep(interval)


def processes_with_environment(name: str, value: str) -> list[tuple[int, str]]:
    """Processes of this user whose environment has ``name=value``: (pid, command line)."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if needle in environ and state != "Z":
            found.append((int(entry.name), cmdline.strip()))
    return found
