"""The supervisor of ``make run``'s children: starts them, relays their output, restarts a
worker or sweep that exits, and stops them all.

As production's process manager would, a worker or sweep that exits is started again (at
most ``RESTART_LIMIT`` times within ``RESTART_WINDOW`` seconds, then ``make run`` stops with
its output). Output is read in this one thread and printed with the child's name in front of
each line; the "running" block is printed once, when the start's burst of output has settled.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from typing import IO

from .children import Child, signal_group, start_child
from .layout import LaunchError

READY_TIMEOUT = 90.0
# The "running" block waits for this long a pause in the children's output, and no longer
# than BANNER_MAX_WAIT after everything answered.
BANNER_QUIET = 2.0
BANNER_MAX_WAIT = 20.0
STOP_TIMEOUT = 15.0
# A worker or sweep that exits is started again, unless it did so this often already: then
# it cannot start (a broken setting, a migration missing) and make run stops, saying so.
RESTART_LIMIT = 5
RESTART_WINDOW = 60.0


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
        child = start_child(name, args, self.env, capture=capture, hide=hide)
        self.children.append(child)
        for stream in (child.popen.stdout, child.popen.stderr):
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
        """SIGTERM every child's group (the sandbox last, so that a task in flight can finish
        its call), then SIGKILL what is left."""
        sandbox = [child for child in self.children if child.name == "sandbox"]
        others = [child for child in self.children if child.name != "sandbox"]
        try:
            for phase in (others, sandbox):
                self._terminate(phase)
        except KeyboardInterrupt:
            self.write("Stopping now.")
        for child in self.children:
            signal_group(child, signal.SIGKILL)
            child.popen.wait()
        deadline = time.monotonic() + 2
        while self.selector.get_map() and time.monotonic() < deadline:
            self.pump(0.1)

    def _terminate(self, children: list[Child]) -> None:
        for child in children:
            if child.running:
                signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(child.running for child in children) and time.monotonic() < deadline:
            self.pump(0.1)
        for child in children:
            if child.running:
                self.write(f"The {child.name} did not stop within {STOP_TIMEOUT:.0f} s: killed.")
