"""The ``make run`` command itself: its options, the checks before anything starts (one
launcher per var directory, the ports free), the start line, and Ctrl-C.

Ctrl-C (or SIGTERM, or SIGHUP when the terminal closes) stops every child and exits 0;
anything the person has to fix is printed as ``make run: ...`` on standard error, exit 1.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import signal
import socket
import sys
import urllib.parse
from pathlib import Path
from typing import IO

from .environment import child_environment
from .layout import LaunchError, Layout
from .start import start
from .supervisor import Supervisor


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


def _shown_database(url: str) -> str:
    """The database URL without its password, for the start line."""
    password = urllib.parse.urlsplit(url).password
    return url.replace(f":{password}@", ":•••@", 1) if password else url


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
