"""``make run`` (scripts/run.py) as a person runs it: start, look around, Ctrl-C, start again.

It runs on free ports with its own var directory (so its SQLite database, sandbox state,
callback token and admin password are the test's own; on PostgreSQL, a database of its
own), waits for the three printed
addresses, fetches each, then sends SIGINT as a terminal's Ctrl-C would and checks that
every process it started is gone and that it exited with 0. The second start must find
the same data and send nothing to the sandbox again.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.e2e.processes import (
    LOG_DIR,
    ROOT,
    database_url,
    eventually,
    free_port,
    process_environment,
    processes_with_environment,
)
from vibes_integration.sandbox.control import SandboxControl

DEMO_PERSONS = 12
NEW_MDN = "+12015550188"
BANNER = {
    "admin": re.compile(r"Admin login:\s+(\S+)\s+\(user (\S+), password (\S+)\)"),
    "link": re.compile(r"Preference center:\s+(\S+)"),
    "phone": re.compile(r"Sandbox phone:\s+(\S+)"),
}


@dataclass(frozen=True)
class Banner:
    admin_url: str
    username: str
    password: str
    link: str
    phone_url: str


class Launch:
    """``scripts/run.py`` in the background, its output kept in memory and in a log file."""

    def __init__(self, env: dict[str, str], name: str) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{name}.log"
        self.lines: list[str] = []
        self.popen = subprocess.Popen(
            [sys.executable, "scripts/run.py"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            process_group=0,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        with self.log_path.open("w") as log:
            for line in self.popen.stdout:
                self.lines.append(line.rstrip("\n"))
                log.write(line)
                log.flush()

    def output(self, last: int = 60) -> str:
        return "\n".join(self.lines[-last:])

    def banner(self) -> Banner:
        def printed() -> Banner | None:
            assert self.popen.poll() is None, (
                f"run.py exited with {self.popen.returncode}:\n{self.output()}"
            )
            found = {}
            for line in list(self.lines):
                for key, pattern in BANNER.items():
                    match = pattern.search(line)
                    if match and key not in found:
                        found[key] = match.groups()
            if len(found) < len(BANNER):
                return None
            admin_url, username, password = found["admin"]
            return Banner(admin_url, username, password, found["link"][0], found["phone"][0])

        return eventually(
            printed, what="run.py to print its addresses", timeout=240, diagnostics=self.output
        )

    def interrupt(self) -> int:
        """Ctrl-C: SIGINT to the launcher's process group (its children have their own)."""
        os.killpg(self.popen.pid, signal.SIGINT)
        try:
            code = self.popen.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"run.py did not stop within 60 s after SIGINT:\n{self.output()}")
        self._reader.join(timeout=10)
        return code


@pytest.fixture
def run_database_url() -> Iterator[str | None]:
    """On PostgreSQL, a database of its own for ``make run`` (DATABASE_URL); else SQLite
    in the var directory, as ``make run`` uses by default."""
    default = settings.DATABASES["default"]
    if not default["ENGINE"].endswith("postgresql"):
        yield None
        return
    import psycopg
    from psycopg import sql

    name = f"{default['TEST']['NAME']}_make_run"
    server = {
        "host": default.get("HOST") or "127.0.0.1",
        "port": default.get("PORT") or 5432,
        "user": default.get("USER") or None,
        "password": default.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(**server) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url({**default, "NAME": name})
    finally:
        with psycopg.connect(**server) as admin:
            admin.execute(drop)


@pytest.fixture
def run_environment(tmp_path: Path, run_database_url: str | None):
    var_dir = tmp_path / "var"
    site_port, sandbox_port = free_port(), free_port()
    env = process_environment(
        PREFCENTER_RUN_SITE=f"127.0.0.1:{site_port}",
        PREFCENTER_RUN_SANDBOX_PORT=str(sandbox_port),
        PREFCENTER_VAR_DIR=str(var_dir),
        PREFCENTER_RUN_DEMO_PERSONS=str(DEMO_PERSONS),
    )
    if run_database_url:
        env["DATABASE_URL"] = run_database_url
    yield env
    # Whatever the outcome, nothing started for this test may outlive it.
    for pid, _command in processes_with_environment("PREFCENTER_VAR_DIR", str(var_dir)):
        os.kill(pid, signal.SIGKILL)


def _log_in(banner: Banner) -> requests.Session:
    session = requests.Session()
    login_url = f"{banner.admin_url}login/"
    page = session.get(login_url, timeout=30)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        login_url,
        data={
            "csrfmiddlewaretoken": token,
            "username": banner.username,
            "password": banner.password,
            "next": "/admin/",
        },
        headers={"Referer": login_url},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text[:500]
    assert "Site administration" in answer.text, "the printed admin login did not work"
    return session


def _stop_and_check_nothing_is_left(launch: Launch, var_dir: str, ports: list[int]) -> None:
    assert launch.interrupt() == 0, launch.output()
    left = processes_with_environment("PREFCENTER_VAR_DIR", var_dir)
    assert not left, f"still running after Ctrl-C: {left}"
    pgrep = subprocess.run(
        ["pgrep", "-af", "manage.py"], capture_output=True, text=True, check=False
    ).stdout
    assert not [line for line in pgrep.splitlines() if var_dir in line], pgrep
    for port in ports:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/", timeout=5)
    assert "Stopped." in launch.output(5)


def _check_the_output_is_quiet(launch: Launch) -> None:
    """The "running" block once; each request, call and callback one short line; the
    machinery (each task's start and end, the development server's start-up text) hidden."""
    output = "\n".join(launch.lines)
    assert output.count("prefcenter is running.") == 1, output
    assert "Vibes PUT /companies/" in output or "Vibes POST /companies/" in output
    assert '"POST /vibes/callbacks/' in output
    for hidden in ("django_tasks Task", "Django version", "Starting development server"):
        assert hidden not in output, hidden
    assert not re.search(r"^\w+ *\| \d{4}-\d{2}-\d{2} ", output, re.MULTILINE), output[-3000:]


def test_make_run_starts_wires_stops_and_resumes(run_environment):
    env = run_environment
    var_dir = env["PREFCENTER_VAR_DIR"]
    site = f"http://{env['PREFCENTER_RUN_SITE']}"
    sandbox_url = f"http://127.0.0.1:{env['PREFCENTER_RUN_SANDBOX_PORT']}"
    ports = [int(env["PREFCENTER_RUN_SITE"].rsplit(":", 1)[1]), int(sandbox_url.rsplit(":")[-1])]
    demo_ids = {f"demo-{n:04d}" for n in range(1, DEMO_PERSONS + 1)}

    first = Launch(env, "make-run-first")
    banner = first.banner()
    assert banner.admin_url == f"{site}/admin/"
    assert banner.link.startswith(f"{site}/preferences/")
    assert banner.phone_url == f"{sandbox_url}/_sandbox/phone/"

    staff = _log_in(banner)
    page = requests.get(banner.link, timeout=30)
    assert page.status_code == 200
    assert "Your preferences" in page.text
    phone = requests.get(banner.phone_url, timeout=30)
    assert phone.status_code == 200
    assert "Sandbox phone" in phone.text

    control = SandboxControl(sandbox_url)
    eventually(
        lambda: demo_ids <= {p.get("external_person_id") for p in control.persons()},
        what="every demo person to be known to the sandbox",
        timeout=60,
        diagnostics=first.output,
    )
    token = (Path(var_dir) / "callback-token").read_text().strip()
    registrations = control.callbacks()
    assert registrations, "no callbacks are registered with the sandbox"
    for registration in registrations:
        assert registration["destination"]["url"] == f"{site}/vibes/callbacks/{token}/"
    # The loop is wired: a keyword texted to the sandbox comes back as a callback through
    # the token URL, and the worker applies it to the CRM.
    control.phone_reply(NEW_MDN, "DEALS")

    def subscribed_in_the_admin() -> bool:
        page = staff.get(
            f"{site}/admin/crm/subscription/",
            params={"q": NEW_MDN, "state__exact": "subscribed"},
            timeout=30,
        )
        return page.status_code == 200 and 'id="result_list"' in page.text

    eventually(
        subscribed_in_the_admin,
        what="the keyword subscription to reach the CRM",
        timeout=60,
        diagnostics=first.output,
    )
    unprotected = requests.post(f"{site}/vibes/callbacks/", json={}, timeout=30)
    assert unprotected.status_code in {401, 403, 404}, unprotected.status_code
    _stop_and_check_nothing_is_left(first, var_dir, ports)
    _check_the_output_is_quiet(first)

    second = Launch(env, "make-run-second")
    again = second.banner()
    assert (again.username, again.password) == (banner.username, banner.password)
    _log_in(again)
    # The first run's link still opens the same person's page: same database, same data.
    assert "Your preferences" in requests.get(banner.link, timeout=30).text
    control = SandboxControl(sandbox_url)
    assert demo_ids <= {p.get("external_person_id") for p in control.persons()}
    assert len(control.callbacks()) == len(registrations)
    writes = [
        f"{call['method']} {call['path']}"
        for call in control.calls()
        if call["method"] in {"POST", "PUT"} and "/mobiledb/persons" in call["path"]
    ]
    assert not writes, f"the second start sent persons again: {writes}"
    _stop_and_check_nothing_is_left(second, var_dir, ports)


def test_ctrl_c_while_starting_stops_everything(run_environment):
    launch = Launch(run_environment, "make-run-interrupted")
    eventually(
        lambda: any(line.startswith("site    |") for line in launch.lines),
        what="the site to start",
        timeout=180,
        diagnostics=launch.output,
    )
    assert launch.interrupt() == 0, launch.output()
    assert not processes_with_environment(
        "PREFCENTER_VAR_DIR", run_environment["PREFCENTER_VAR_DIR"]
    )


def _run_briefly(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/run.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PREFCENTER_RUN_SITE", "127.0.0.1:80800"), ("PREFCENTER_RUN_SANDBOX_PORT", "eight")],
)
def test_a_bad_port_setting_is_refused_clearly(run_environment, variable, value):
    result = _run_briefly({**run_environment, variable: value})
    assert result.returncode == 1
    assert f"{variable}=" in result.stderr
    assert "expected a port number" in result.stderr


def test_a_busy_port_is_refused_clearly(run_environment):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _run_briefly({**run_environment, "PREFCENTER_RUN_SITE": f"127.0.0.1:{port}"})
    assert result.returncode == 1
    assert f"127.0.0.1:{port} is not free" in result.stderr
    assert "PREFCENTER_RUN_SITE" in result.stderr
    assert not processes_with_environment(
        "PREFCENTER_VAR_DIR", run_environment["PREFCENTER_VAR_DIR"]
    )


def test_two_launchers_cannot_share_a_var_directory(run_environment):
    var_dir = Path(run_environment["PREFCENTER_VAR_DIR"])
    var_dir.mkdir(parents=True)
    with (var_dir / "run.lock").open("a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = _run_briefly(run_environment)
    assert result.returncode == 1
    assert "Another `make run` is using" in result.stderr
