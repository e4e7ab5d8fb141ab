"""Real ``manage.py`` processes against the test database and the sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def database_url() -> str:
    """The URL of the database this test runs on (the test database)."""
    config = connection.settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{config['NAME']}"
    credentials = config["USER"] or ""
    if config.get("PASSWORD"):
        credentials = f"{credentials}:{config['PASSWORD']}"
    host = config["HOST"] or "127.0.0.1"
    port = config["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{config['NAME']}"


def environment(sandbox, **extra: object) -> dict[str, str]:
    username, password = sandbox.credentials
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VIBES_", "DATABASE_URL", "PYTEST", "DJANGO_SETTINGS"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="prefcenter.settings",
        DATABASE_URL=database_url(),
        VIBES_API_URL=sandbox.url,
        VIBES_COMPANY_KEY=sandbox.company_key,
        VIBES_USERNAME=username,
        VIBES_PASSWORD=password,
        PYTHONUNBUFFERED="1",
        PYTHONFAULTHANDLER="1",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


class ManageProcess:
    """``manage.py <args>`` in the background, its output kept in a file for failures."""

    def __init__(self, *args: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, str(MANAGE), *args],
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            cwd=str(MANAGE.parent),
        )

    def output(self) -> str:
        if not self._file.closed:
            self._file.flush()
        return self.log.read_text()

    def kill(self, signum: int = signal.SIGKILL) -> None:
        """Send ``signum`` and wait for the end; a process that ignores it is killed."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGABRT)  # with PYTHONFAULTHANDLER: thread dump
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        finally:
            self._file.close()

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        self._file.close()
        return code


def start_worker(sandbox, log: Path, worker_id: str, **extra: object) -> ManageProcess:
    return ManageProcess(
        "prefcenter_worker",
        "--queue-name",
        "*",
        "--interval",
        "0.05",
        "--no-reload",
        "--no-startup-delay",
        "--worker-id",
        worker_id,
        env=environment(sandbox, **extra),
        log=log,
    )


def wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
