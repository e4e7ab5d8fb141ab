"""One child process of ``make run``: started in its own process group, told to stop when
the launcher dies, and signalled as a group.

Its own process group means a Ctrl-C in the terminal reaches only the launcher, which then
stops the children in order (``supervisor.Supervisor.stop``) and, should one not stop in
time, kills its whole group (a development server's or a worker's own children with it).
On Linux each child also gets SIGTERM when the launcher dies without cleaning up.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field

from .layout import ROOT

PR_SET_PDEATHSIG = 1


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


def start_child(
    name: str,
    args: tuple[str, ...],
    env: dict[str, str],
    *,
    capture: bool = False,
    hide: re.Pattern[str] | None = None,
) -> Child:
    """``python manage.py *args`` in its own process group; its output on pipes.

    With ``capture``, its standard output is kept apart (read by the caller) and its
    standard error still goes to the screen.
    """
    launcher_pid = os.getpid()
    popen = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if capture else subprocess.STDOUT,
        process_group=0,
        preexec_fn=lambda: _die_with_launcher(launcher_pid),
    )
    return Child(name=name, popen=popen, args=args, capture=[] if capture else None, hide=hide)


def signal_group(child: Child, signum: int) -> None:
    """Send ``signum`` to the child's whole process group (gone already is fine)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.popen.pid, signum)
