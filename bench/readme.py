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


def table(results: Results, *, started: str, finished: str, load: str = "") -> str:
    lines = ["| measure | figure | target | met |", "| --- | --- | --- | --- |"]
    for row in results.rows:
        met = "**no**" if row.met is False else status_word(row.met)
        lines.append(f"| {row.measure} | {row.figure} | {row.target} | {met} |")
    lines += [
        "",
        "Measured on this project's development machine (2 cores"
        + (f", load average {load} at the start" if load else "")
        + "): figures are ratios or counts measured side by side, since absolute times drift "
        "on a shared machine; [bench/results.md](bench/results.md) has the machine, the load "
        f"during each measure, every round and the details of each row. Date: {started} "
        f"(finished {finished}).",
    ]
    return "\n".join(lines)


def update(readme: Path, results: Results, *, started: str, finished: str, load: str = "") -> bool:
    """Replace the table between the markers; False (README untouched) without them."""
    text = readme.read_text()
    head, start, rest = text.partition(START)
    _old, end, tail = rest.partition(END)
    if not start or not end:
        return False
    body = table(results, started=started, finished=finished, load=load)
    readme.write_text(f"{head}{START}\n{body}\n{END}{tail}")
    return True
