"""The progress of ``vibes_backfill`` and ``vibes_reconcile``: a bar redrawn in place on a
terminal, a plain line every 10 % in a log (no carriage returns), on the stream given."""

from __future__ import annotations

import io

from vibes_integration.sync.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_plain_line_every_ten_percent():
    log = io.StringIO()
    bar = ProgressBar(1000, log, label="Sending to Vibes ")
    for done in range(0, 1001, 25):
        bar.update(done)
    bar.finish()
    text = log.getvalue()
    assert "\r" not in text and "\033" not in text
    lines = text.splitlines()
    assert len(lines) == 12  # 0 %, 10 % ... 100 %, and the closing line
    assert all(line.startswith("Sending to Vibes [") for line in lines)
    assert "500/1,000  50.0%" in lines[5]
    assert lines[-1].split("]")[1].startswith(" 1,000/1,000 100.0%")


def test_an_interrupted_run_says_so_on_its_last_line():
    log = io.StringIO()
    bar = ProgressBar(200, log, label="Sending to Vibes ")
    bar.update(30)
    bar.finish("interrupted")
    assert log.getvalue().splitlines()[-1].endswith("interrupted")
    assert "30/200  15.0%" in log.getvalue().splitlines()[-1]


def test_a_terminal_gets_one_line_redrawn_in_place():
    terminal = Terminal()
    bar = ProgressBar(100, terminal, label="Comparing with Vibes ")
    for done in range(0, 101, 10):
        bar.update(done)
    bar.finish()
    text = terminal.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert text.startswith("\rComparing with Vibes [")
    assert "100/100 100.0%" in text.rsplit("\r", 1)[-1]
