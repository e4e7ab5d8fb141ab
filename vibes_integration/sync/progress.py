"""A progress line for long commands: a bar on a terminal, a line per step elsewhere."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ProgressBar:
    """``update(done)`` redraws the bar; ``finish()`` ends the line.

    On a terminal the bar is redrawn in place at most ten times a second; when the output
    is a file or a pipe (a log), a plain line is written every ``log_every`` percent.
    """

    width = 30

    def __init__(self, total: int, stream: TextIO, *, label: str = "", log_every: int = 10):
        self.total = max(0, total)
        self.stream = stream
        self.label = label
        self.log_every = log_every
        self.started = time.monotonic()
        self.interactive = bool(getattr(stream, "isatty", lambda: False)())
        self._last_draw = 0.0
        self._last_logged_step = -1
        self.done = 0

    def line(self, done: int, note: str = "") -> str:
        fraction = done / self.total if self.total else 1.0
        filled = round(self.width * min(1.0, fraction))
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 and done < self.total else 0.0
        bar = "#" * filled + "-" * (self.width - filled)
        text = (
            f"{self.label}[{bar}] {done:,}/{self.total:,} {fraction:6.1%} "
            f"{rate:,.0f}/s eta {_duration(eta)}"
        )
        return f"{text}  {note}" if note else text

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        now = time.monotonic()
        if self.interactive:
            if now - self._last_draw >= 0.1 or done >= self.total:
                self.stream.write("\r" + self.line(done, note) + "\033[K")
                self.stream.flush()
                self._last_draw = now
            return
        step = int(100 * done / self.total) // self.log_every if self.total else 0
        if step > self._last_logged_step:
            self.stream.write(self.line(done, note) + "\n")
            self.stream.flush()
            self._last_logged_step = step

    def finish(self, note: str = "") -> None:
        if self.interactive:
            self.stream.write("\r" + self.line(self.done, note) + "\033[K\n")
        else:
            self.stream.write(self.line(self.done, note) + "\n")
        self.stream.flush()


@contextlib.contextmanager
def quiet_call_log(verbosity: int) -> Iterator[None]:
    """Commands print their own progress: the client's line per call only with -v 2."""
    client_log = logging.getLogger("vibes_integration.client")
    previous = client_log.level
    if verbosity < 2:
        client_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        client_log.setLevel(previous)
