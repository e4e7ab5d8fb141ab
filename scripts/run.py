"""``make run``: the whole product on one machine, wired together.

Starts the Vibes sandbox, the site, the task worker and the sync's sweep, registers the
sandbox's callbacks to the site, sends the demo persons to the sandbox, then prints where
to go. Ctrl-C stops everything; running it again resumes with the same data (the site's
SQLite file and the sandbox's state file live in the var directory). See docs/run.md.

The worker and the sweep run the commands the ``Procfile`` gives production's process types
of those names (with make run's faster polling added), and, as production's process manager
would, a worker or sweep that exits is started again (at most ``RESTART_LIMIT`` times within
``RESTART_WINDOW`` seconds, then make run stops with its output). Why not honcho, which
reads the same Procfile: docs/run.md.

Every child runs in its own process group, so a Ctrl-C in the terminal reaches only this
launcher, which then stops the children in order (the sandbox last, so that a task in
flight can finish its call) and, should one not stop in time, kills its whole group. On
Linux each child also gets SIGTERM when this launcher dies without cleaning up. Output
is read in this one thread and printed with the child's name in front of each line.

Output is kept to what a person trying the product needs: each request to the site, each
call to Vibes and each callback on one line, a short log format, and the "running" block
printed once, when the start's burst of output has settled. ``--verbose`` (``make run
V=2``) shows everything: every logger, the full log format and the development server's
own start-up text.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import json
import os
import re
import secrets
import selectors
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_CONFIG = ROOT / "vibes_integration" / "sandbox" / "configs" / "demo.json"
PROCFILE = ROOT / "Procfile"
# What make run adds to production's worker: poll twice a second, start at once.
DEV_WORKER_OPTIONS = ("--interval", "0.5", "--no-startup-delay")
READY_TIMEOUT = 90.0
# The "running" block waits for this long a pause in the children's output, and no longer
# than BANNER_MAX_WAIT after everything answered.
BANNER_QUIET = 2.0
BANNER_MAX_WAIT = 20.0
# Loggers whose info lines describe the machinery rather than what happened (each task's
# start and end, the rate limiter's bookkeeping); their warnings and errors still show.
QUIET_LOGGERS = ("django_tasks", "django_tasks_db", "vibes_integration.sync.concurrency")
# The development server's start-up text: the same at every start, and its warning is
# about production, which make run is not.
RUNSERVER_CHATTER = re.compile(
    r"^(|Performing system checks\.*|System check identified .*|Django version .*"
    r"|Starting development server at .*|Quit the server with .*"
    r"|WARNING: This is a development server\..*|For more information on production servers.*"
    r"|\w+ \d{2}, \d{4} - \d{2}:\d{2}:\d{2})$"
)
STOP_TIMEOUT = 15.0
# A worker or sweep that exits is started again, unless it did so this often already: then
# it cannot start (a broken setting, a migration missing) and make run stops, saying so.
RESTART_LIMIT = 5
RESTART_WINDOW = 60.0
PR_SET_PDEATHSIG = 1


class LaunchError(Exception):
    """Something the person running ``make run`` has to fix; the message says what."""


@dataclass(frozen=True)
class Layout:
    """Where the site and the sandbox listen and where their data lives."""

    site_host: str
    site_port: int
    sandbox_port: int
    var_dir: Path

    @classmethod
    def from_environ(cls, environ: dict[str, str]) -> Layout:
        site = environ.get("PREFCENTER_RUN_SITE") or "127.0.0.1:8000"
        host, _, port = site.rpartition(":")
        var_dir = Path(environ.get("PREFCENTER_VAR_DIR") or ROOT / "var")
        return cls(
            site_host=host or "127.0.0.1",
            site_port=_port("PREFCENTER_RUN_SITE", port, site),
            sandbox_port=_port(
                "PREFCENTER_RUN_SANDBOX_PORT",
                environ.get("PREFCENTER_RUN_SANDBOX_PORT") or "8001",
            ),
            var_dir=var_dir.expanduser().resolve(),
        )

    @property
    def site_url(self) -> str:
        host = "127.0.0.1" if self.site_host in {"0.0.0.0", ""} else self.site_host
        return f"http://{host}:{self.site_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"


def _port(variable: str, raw: str, shown: str | None = None) -> int:
    if raw.isdigit() and 0 < int(raw) < 65536:
        return int(raw)
    raise LaunchError(
        f"{variable}={shown or raw!r} is not valid: expected a port number (1-65535)"
        + (" or host:port, such as 127.0.0.1:8000." if variable == "PREFCENTER_RUN_SITE" else ".")
    )


def procfile_commands(path: Path = PROCFILE) -> dict[str, list[str]]:
    """The Procfile's process types: ``name: command`` per line, ``#`` starts a comment."""
    commands = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, colon, command = line.partition(":")
        if colon and name.strip() and not line.lstrip().startswith("#"):
            commands[name.strip()] = shlex.split(command)
    return commands


def manage_arguments(commands: dict[str, list[str]], name: str) -> list[str]:
    """The ``manage.py`` arguments of the Procfile's process type ``name``."""
    command = commands.get(name, [])
    if "manage.py" not in command:
        raise LaunchError(f"{PROCFILE} has no `{name}: python manage.py ...` line.")
    return command[command.index("manage.py") + 1 :]


def _secret_file(path: Path, make: str) -> str:
    """A local secret made once and kept in the var directory (readable by its owner only)."""
    if not path.exists():
        path.write_text(make + "\n")
        path.chmod(0o600)
    value = path.read_text().strip()
    if not value:
        raise LaunchError(f"{path} is empty: delete it and start again to make a new one.")
    return value


def child_environment(
    layout: Layout, environ: dict[str, str], *, verbose: bool = False
) -> dict[str, str]:
    """The environment every child gets: the site, worker and sandbox pointed at each other.

    The Vibes settings always name the local sandbox, so ``make run`` never talks to a
    real Vibes account, whatever the shell exports. The callback endpoint is protected by
    a secret path token made once per var directory.
    """
    try:
        config = json.loads(SANDBOX_CONFIG.read_text(encoding="utf-8"))
        credentials = config["credentials"][0]
        company_key, username, password = (
            config["company_key"],
            credentials["username"],
            credentials["password"],
        )
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise LaunchError(f"{SANDBOX_CONFIG} cannot be read as the sandbox config: {exc}") from exc
    token = _secret_file(layout.var_dir / "callback-token", secrets.token_urlsafe(24))
    env = {
        name: value
        for name, value in environ.items()
        if not name.startswith(("VIBES_CALLBACK_", "VIBES_TRUSTED_PROXIES"))
    }
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{layout.var_dir / 'prefcenter.sqlite3'}"
    if not env.get("PREFCENTER_ADMIN_PASSWORD"):
        env["PREFCENTER_ADMIN_PASSWORD"] = _secret_file(
            layout.var_dir / "admin-password", secrets.token_urlsafe(12)
        )
    env.setdefault("PREFCENTER_ADMIN_USERNAME", "admin")
    if not verbose:
        # What the shell sets wins: someone debugging one logger keeps their choice.
        env.setdefault("PREFCENTER_LOG_FORMAT", "short")
        env.setdefault("PREFCENTER_LOG_LEVELS", ",".join(f"{n}=WARNING" for n in QUIET_LOGGERS))
    env.update(
        DJANGO_ENV="development",
        PYTHONUNBUFFERED="1",
        PREFCENTER_VAR_DIR=str(layout.var_dir),
        SITE_URL=layout.site_url,
        VIBES_API_URL=layout.sandbox_url,
        VIBES_COMPANY_KEY=company_key,
        VIBES_USERNAME=username,
        VIBES_PASSWORD=password,
        VIBES_CALLBACK_TOKENS=token,
        VIBES_CALLBACK_BASE_URL=f"{layout.site_url}/vibes/callbacks/{token}/",
    )
    return env


def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()


def _die_with_launcher(launcher_pid: int) -> None:
    """Runs in the child before it starts: SIGTERM it when the launcher is gone."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != launcher_pid:
            os.kill(os.getpid(), signal.SIGTERM)


@dataclass(eq=False)
class Child:
    name: str
    popen: subprocess.Popen
    args: tuple[str, ...] = ()
    capture: list[str] | None = None
    pending: dict[int, bytes] = field(default_factory=dict)
    #: Lines of this child not worth showing (shown with ``--verbose``).
    hide: re.Pattern[str] | None = None
    #: Started again when it exits (the worker and the sweep).
    restart: bool = False

    @property
    def exit_text(self) -> str:
        code = self.popen.returncode
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exit {code}"

    @property
    def running(self) -> bool:
        return self.popen.poll() is None


class Supervisor:
    """Starts ``manage.py`` children, relays their output, and stops them all."""

    def __init__(self, env: dict[str, str], out: IO[str] = sys.stdout) -> None:
        self.env = env
        self.out = out
        self.children: list[Child] = []
        self.services: list[Child] = []
        self.selector = selectors.DefaultSelector()
        self.lines_written = 0
        self.last_write = time.monotonic()
        self.restarts: dict[str, deque[float]] = {}

    def spawn(
        self, name: str, *args: str, capture: bool = False, hide: re.Pattern[str] | None = None
    ) -> Child:
        launcher_pid = os.getpid()
        popen = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if capture else subprocess.STDOUT,
            process_group=0,
            preexec_fn=lambda: _die_with_launcher(launcher_pid),
        )
        child = Child(name=name, popen=popen, args=args, capture=[] if capture else None, hide=hide)
        self.children.append(child)
        for stream in (popen.stdout, popen.stderr):
            if stream is not None:
                os.set_blocking(stream.fileno(), False)
                self.selector.register(stream, selectors.EVENT_READ, child)
        return child

    def start_service(
        self,
        name: str,
        *args: str,
        hide: re.Pattern[str] | None = None,
        restart: bool = False,
    ) -> Child:
        child = self.spawn(name, *args, hide=hide)
        child.restart = restart
        self.services.append(child)
        return child

    def run_step(self, name: str, *args: str, capture: bool = False) -> list[str]:
        """Run a one-off command to its end; raise LaunchError when it fails."""
        child = self.spawn(name, *args, capture=capture)
        while child.running or self._has_open_pipes(child):
            self.pump(0.2)
            self.check_services()
        if child.popen.returncode != 0:
            raise LaunchError(
                f"`python manage.py {' '.join(args)}` failed (exit {child.popen.returncode});"
                " its output is above."
            )
        return child.capture or []

    def check_services(self) -> None:
        for child in list(self.services):
            if child.running:
                continue
            self.pump(0.2)  # its last words first
            if child.restart and self._may_restart(child.name):
                self.write(f"The {child.name} stopped ({child.exit_text}): starting it again.")
                self.children.remove(child)
                self.services.remove(child)
                self.start_service(child.name, *child.args, hide=child.hide, restart=True)
                continue
            how_often = ""
            if child.restart:
                how_often = f" {RESTART_LIMIT + 1} times within {RESTART_WINDOW:.0f} s"
            raise LaunchError(
                f"The {child.name} stopped unexpectedly{how_often} ({child.exit_text});"
                " its output is above."
            )

    def _may_restart(self, name: str) -> bool:
        now = time.monotonic()
        times = self.restarts.setdefault(name, deque())
        while times and now - times[0] > RESTART_WINDOW:
            times.popleft()
        if len(times) >= RESTART_LIMIT:
            return False
        times.append(now)
        return True

    def wait_until_answers(self, url: str, what: str, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_services()
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                self.pump(0.25)
        raise LaunchError(f"The {what} did not answer at {url} within {timeout:.0f} seconds.")

    def serve(self, banner: str) -> None:
        """Print the banner once, then relay output until a service stops or a signal
        interrupts.

        Right after a start the worker sends the demo persons and the sandbox calls back;
        the banner waits for a pause in that output (at most ``BANNER_MAX_WAIT`` seconds),
        so that it is the last thing on the screen rather than buried in it.
        """
        deadline = time.monotonic() + BANNER_MAX_WAIT
        while time.monotonic() - self.last_write < BANNER_QUIET and time.monotonic() < deadline:
            self.check_services()
            self.pump(0.25)
        self.write(banner)
        while True:
            self.check_services()
            self.pump(0.5)

    def pump(self, timeout: float) -> None:
        if not self.selector.get_map():
            time.sleep(timeout)
            return
        for key, _events in self.selector.select(timeout):
            child: Child = key.data
            fd = key.fd
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            is_stdout = key.fileobj is child.popen.stdout
            if not data:
                self.selector.unregister(key.fileobj)
                key.fileobj.close()
                self._emit(child, is_stdout, child.pending.pop(fd, b""), final=True)
                continue
            rest = self._emit(child, is_stdout, child.pending.pop(fd, b"") + data)
            if rest:
                child.pending[fd] = rest

    def _emit(self, child: Child, is_stdout: bool, data: bytes, final: bool = False) -> bytes:
        """Print (or capture) the complete lines in ``data``; return the unfinished rest."""
        *lines, rest = data.split(b"\n")
        if final and rest:
            lines.append(rest)
            rest = b""
        for raw in lines:
            # A redrawn progress line: what the terminal would end up showing.
            line = raw.decode("utf-8", "replace").rstrip("\r").rsplit("\r", 1)[-1]
            if child.capture is not None and is_stdout:
                child.capture.append(line)
            elif child.hide is not None and child.hide.match(line):
                continue
            else:
                self.write(f"{child.name:<8}| {line}")
        return rest

    def write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.out.write(text + "\n")
            self.out.flush()
        self.lines_written += text.count("\n") + 1
        self.last_write = time.monotonic()

    def _has_open_pipes(self, child: Child) -> bool:
        return any(key.data is child for key in self.selector.get_map().values())

    def stop(self) -> None:
        """SIGTERM every child's group (the sandbox last), then SIGKILL what is left."""
        sandbox = [child for child in self.children if child.name == "sandbox"]
        others = [child for child in self.children if child.name != "sandbox"]
        try:
            for phase in (others, sandbox):
                self._terminate(phase)
        except KeyboardInterrupt:
            self.write("Stopping now.")
        for child in self.children:
            _signal_group(child, signal.SIGKILL)
            child.popen.wait()
        deadline = time.monotonic() + 2
        while self.selector.get_map() and time.monotonic() < deadline:
            self.pump(0.1)

    def _terminate(self, children: list[Child]) -> None:
        for child in children:
            if child.running:
                _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(child.running for child in children) and time.monotonic() < deadline:
            self.pump(0.1)
        for child in children:
            if child.running:
                self.write(f"The {child.name} did not stop within {STOP_TIMEOUT:.0f} s: killed.")


def _signal_group(child: Child, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.popen.pid, signum)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _ensure_free(host: str, port: int, variable: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise LaunchError(
                f"{host}:{port} is not free ({exc.strerror}). Stop what uses it, or choose "
                f"another port with {variable}."
            ) from exc


def _lock(var_dir: Path) -> IO[str]:
    """One launcher per var directory: two would share (and fight over) the same data."""
    handle = (var_dir / "run.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise LaunchError(
            f"Another `make run` is using {var_dir}. Stop it first, or give this one its own "
            "directory with PREFCENTER_VAR_DIR."
        ) from None
    return handle


def _banner(layout: Layout, env: dict[str, str], link: str) -> str:
    password = env["PREFCENTER_ADMIN_PASSWORD"]
    if os.environ.get("PREFCENTER_ADMIN_PASSWORD"):
        password = "from PREFCENTER_ADMIN_PASSWORD"
    rule = "=" * 78
    lines = [
        rule,
        "prefcenter is running. Ctrl-C stops everything; `make run` again resumes.",
        f"  Admin login:        {layout.site_url}/admin/  "
        f"(user {env['PREFCENTER_ADMIN_USERNAME']}, password {password})",
        f"  Preference center:  {link}",
        f"  Sandbox phone:      {layout.sandbox_url}/_sandbox/phone/",
        rule,
    ]
    return "\n" + "\n".join(lines) + "\n"


def _shown_database(url: str) -> str:
    """The database URL without its password, for the start line."""
    password = urllib.parse.urlsplit(url).password
    return url.replace(f":{password}@", ":•••@", 1) if password else url


def start(
    supervisor: Supervisor, layout: Layout, env: dict[str, str], *, verbose: bool = False
) -> str:
    """Start and wire everything; return the banner to print."""
    state = layout.var_dir / "sandbox.sqlite3"
    supervisor.start_service(
        "sandbox", "vibes_sandbox", "--port", str(layout.sandbox_port), "--state", str(state)
    )
    supervisor.run_step("migrate", "migrate", "--no-input", "-v", "0")
    persons = env.get("PREFCENTER_RUN_DEMO_PERSONS")
    # The demo goes to the sandbox too (one world on both sides), so the sandbox must answer.
    supervisor.wait_until_answers(f"{layout.sandbox_url}/_sandbox/config", "Vibes sandbox")
    supervisor.run_step(
        "demo",
        "load_demo",
        "--sandbox",
        layout.sandbox_url,
        *(["--persons", persons] if persons else []),
    )
    supervisor.run_step("admin", "ensure_admin")
    # --insecure: the stylesheet is served even when the shell exports DEBUG=0.
    address = f"{layout.site_host}:{layout.site_port}"
    supervisor.start_service(
        "site",
        "runserver",
        address,
        "--noreload",
        "--insecure",
        hide=None if verbose else RUNSERVER_CHATTER,
    )
    procfile = procfile_commands()
    worker = [*manage_arguments(procfile, "worker"), *DEV_WORKER_OPTIONS]
    supervisor.start_service("worker", *worker, restart=True)
    supervisor.start_service("sweep", *manage_arguments(procfile, "sweep"), restart=True)
    supervisor.wait_until_answers(f"{layout.sandbox_url}/_sandbox/config", "Vibes sandbox")
    supervisor.wait_until_answers(f"{layout.site_url}/healthz", "site")
    # make run owns its sandbox: registrations left by an earlier address are taken over.
    supervisor.run_step("callback", "vibes_callbacks", "register", "--replace")
    supervisor.run_step("backfill", "vibes_backfill")
    captured = supervisor.run_step("link", "prefcenter_link", "--demo", capture=True)
    links = [line.strip() for line in captured if re.match(r"\s*https?://", line)]
    if not links:
        raise LaunchError("`prefcenter_link --demo` printed no link.")
    return _banner(layout, env, links[-1])


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Start prefcenter, its worker and a sandbox.")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="show everything: every logger, the full log format, the server's start-up text",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    verbose = _arguments(argv).verbose
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    try:
        layout = Layout.from_environ(dict(os.environ))
        layout.var_dir.mkdir(parents=True, exist_ok=True)
        lock = _lock(layout.var_dir)
        _ensure_free(layout.site_host, layout.site_port, "PREFCENTER_RUN_SITE")
        _ensure_free("127.0.0.1", layout.sandbox_port, "PREFCENTER_RUN_SANDBOX_PORT")
        env = child_environment(layout, dict(os.environ), verbose=verbose)
    except LaunchError as exc:
        print(f"make run: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    supervisor = Supervisor(env)
    database = _shown_database(env["DATABASE_URL"])
    supervisor.write(f"Starting prefcenter (data in {layout.var_dir}, database {database})")
    status = 1
    try:
        supervisor.serve(start(supervisor, layout, env, verbose=verbose))
    except LaunchError as exc:
        print(f"make run: {exc}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        supervisor.write("\nStopping prefcenter...")
        status = 0
    finally:
        supervisor.stop()
        lock.close()
    if status == 0:
        supervisor.write("Stopped. `make run` starts it again with the same data.")
    return status


if __name__ == "__main__":
    sys.exit(main())
