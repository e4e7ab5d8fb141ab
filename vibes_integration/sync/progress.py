"""A progress line for long commands (``vibes_backfill``, ``vibes_reconcile``), drawn by tqdm.

On a terminal tqdm redraws the bar in place (at most ten times a second, to the terminal's
width). In a file or a pipe (a cron job's log, CI) a redrawn line would be a run of
carriage returns, so there a plain line, formatted by tqdm, is written every ``log_every``
percent instead. Either way it goes to the stream the command gives, its stderr, so that
stdout keeps only the results. Why tqdm rather than rich: docs/sync.md.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import TextIO

from tqdm import tqdm

BAR_FORMAT = (
    "{desc}[{bar:30}] {n:,}/{total:,} {percentage:5.1f}% {rate_fmt} eta {remaining}{postfix}"
)


class ProgressBar:
    """``update(done)`` shows how far the command is; ``finish()`` ends the line."""

    def __init__(self, total: int, stream: TextIO, *, label: str = "", log_every: int = 10):
        self.total = max(0, total)
        self.stream = stream
        self.label = label
        self.log_every = log_every
        self.started = time.monotonic()
        self.interactive = bool(getattr(stream, "isatty", lambda: False)())
        self._last_logged_step = -1
        self.done = 0
        self._bar = (
            tqdm(
                total=self.total,
                file=stream,
                desc=label,
                bar_format=BAR_FORMAT,
                unit="",
                mininterval=0.1,
                dynamic_ncols=True,
            )
            if self.interactive
            else None
        )

    def line(self, done: int, note: str = "") -> str:
        """The progress as one line of text (what a log gets)."""
        return tqdm.format_meter(
            done,
            self.total,
            time.monotonic() - self.started,
            prefix=self.label,
            bar_format=BAR_FORMAT,
            postfix=note or None,
            unit="",
            ascii=True,
        )

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        if self._bar is not None:
            if note:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.update(done - self._bar.n)
            return
        step = int(100 * done / self.total) // self.log_every if self.total else 0
        if step > self._last_logged_step:
            self.stream.write(self.line(done, note) + "\n")
            self.stream.flush()
            self._last_logged_step = step

    def finish(self, note: str = "") -> None:
        if self._bar is not None:
            if note:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.close()
            return
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
