"""Keeps the README's benchmark table equal to the latest full ``make bench`` run.

The README shows each row's figure without its details (those stay in bench/results.md), so
that a reader evaluating prefcenter sees the same numbers the results file has, never a
hand-copied older run.
"""

from __future__ import annotations

from pathlib import Path

from bench.harness import Results, status_word

START = "<!-- bench:start (written by make bench) -->"
END = "<!-- bench:end -->"


def table(results: Results, *, started: str, finished: str) -> str:
    lines = ["| measure | figure | target | met |", "| --- | --- | --- | --- |"]
    for row in results.rows:
        met = "**no**" if row.met is False else status_word(row.met)
        lines.append(f"| {row.measure} | {row.figure} | {row.target} | {met} |")
    lines += [
        "",
        "Measured on this project's development machine (2 cores, shared with other work while "
        "it ran: figures are ratios measured side by side; [bench/results.md](bench/results.md) "
        "has the machine, the load, every round and the details of each row). "
        f"Date: {started} (finished {finished}).",
    ]
    return "\n".join(lines)


def update(readme: Path, results: Results, *, started: str, finished: str) -> bool:
    """Replace the table between the markers; False (README untouched) without them."""
    text = readme.read_text()
    head, start, rest = text.partition(START)
    _old, end, tail = rest.partition(END)
    if not start or not end:
        return False
    body = table(results, started=started, finished=finished)
    readme.write_text(f"{head}{START}\n{body}\n{END}{tail}")
    return True
