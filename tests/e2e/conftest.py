"""The whole loop, for real: the site, a task worker, the sweep and the Vibes sandbox.

The site is pytest-django's ``live_server`` (a real HTTP server in this process, on the
test database). The sandbox, the worker and the sweep are separate processes started with
``manage.py``, as in production; the worker and the sweep use the test database too, which
is why these tests use ``transactional_db``: every change is committed, so every process
sees it. The sandbox's callbacks are registered with ``vibes_callbacks register`` to the
live server, behind a secret path token.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.db import connection

from crm.demo.loader import load_demo
from tests.e2e.processes import (
    ManagedProcess,
    database_url,
    free_port,
    process_environment,
)
from vibes_integration.sandbox.config import DEMO_CONFIG_PATH
from vibes_integration.sandbox.control import SandboxControl


@dataclass
class Loop:
    site_url: str
    sandbox_url: str
    callback_url: str
    control: SandboxControl
    sandbox: ManagedProcess
    worker: ManagedProcess
    sweep: ManagedProcess

    @property
    def phone_url(self) -> str:
        return f"{self.sandbox_url}/_sandbox/phone/"

    def assert_running(self) -> None:
        for process in (self.sandbox, self.worker, self.sweep):
            process.assert_running()

    def logs(self) -> str:
        return "\n".join(
            f"--- {process.name} ({process.log_path}) ---\n{process.log_tail(25)}"
            for process in (self.sandbox, self.worker, self.sweep)
        )


@pytest.fixture
def whole_loop(transactional_db, live_server, settings) -> Iterator[Loop]:
    config = json.loads(DEMO_CONFIG_PATH.read_text(encoding="utf-8"))
    credentials = config["credentials"][0]
    sandbox_url = f"http://127.0.0.1:{free_port()}"
    token = secrets.token_urlsafe(24)
    callback_url = f"{live_server.url}/vibes/callbacks/{token}/"

    settings.SITE_URL = live_server.url
    settings.VIBES_API_URL = sandbox_url
    settings.VIBES_COMPANY_KEY = config["company_key"]
    settings.VIBES_USERNAME = credentials["username"]
    settings.VIBES_PASSWORD = credentials["password"]
    settings.VIBES_CALLBACK_TOKENS = [token]
    settings.VIBES_CALLBACK_CREDENTIALS = []
    settings.VIBES_CALLBACK_ALLOWED_IPS = ["*"]
    settings.VIBES_TRUSTED_PROXIES = []
    settings.VIBES_CALLBACK_BASE_URL = callback_url

    started: list[ManagedProcess] = []
    try:
        sandbox = ManagedProcess(
            "sandbox",
            [
                "vibes_sandbox",
                "--port",
                sandbox_url.rsplit(":", 1)[1],
                "--delivery-backoff",
                "0.2",
                "--delivery-attempts",
                "8",
            ],
            process_environment(),
        )
        started.append(sandbox)
        sandbox.wait_for_url(f"{sandbox_url}/_sandbox/config")

        # The demo company's lists and custom fields, as the sandbox has them.
        load_demo(persons=0)

        env = process_environment(
            DJANGO_ENV="development",
            DATABASE_URL=database_url(connection.settings_dict),
            SITE_URL=live_server.url,
            VIBES_API_URL=sandbox_url,
            VIBES_COMPANY_KEY=config["company_key"],
            VIBES_USERNAME=credentials["username"],
            VIBES_PASSWORD=credentials["password"],
            VIBES_SYNC_SWEEP_INTERVAL="2",
        )
        worker = ManagedProcess(
            "worker",
            [
                "prefcenter_worker",
                "--queue-name",
                "*",
                "--interval",
                "0.1",
                "--no-reload",
                "--no-startup-delay",
            ],
            env,
        )
        started.append(worker)
        sweep = ManagedProcess("sweep", ["vibes_sync", "--loop"], env)
        started.append(sweep)

        call_command("vibes_callbacks", "register", stdout=io.StringIO())
        loop = Loop(
            site_url=live_server.url,
            sandbox_url=sandbox_url,
            callback_url=callback_url,
            control=SandboxControl(sandbox_url),
            sandbox=sandbox,
            worker=worker,
            sweep=sweep,
        )
        loop.assert_running()
        yield loop
        loop.assert_running()
        loop.control.close()
    finally:
        # The sandbox last: a task in flight may still be talking to it.
        for process in reversed(started):
            process.stop()
