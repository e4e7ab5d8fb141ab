"""Preference page: queries per view and render time with 20 lists and 30 custom fields,
side by side with 2 lists and 3 fields (see ``management/commands/bench_page.py``)."""

from __future__ import annotations

from bench.harness import Results, environment, manage_json


def run(results: Results, *, database_url: str, label: str) -> None:
    figures = manage_json("bench_page", env=environment(database_url))
    small, large = figures["small"], figures["large"]
    same = small["queries"] == large["queries"] and len(large["queries"]) == 1
    results.add(
        f"preference page queries ({label})",
        f"{'/'.join(map(str, large['queries']))} queries with {large['lists_shown']} lists and "
        f"{large['fields_shown']} fields vs {'/'.join(map(str, small['queries']))} with "
        f"{small['lists_shown']} lists and {small['fields_shown']} fields",
        "the same as with 2 lists and 3 fields",
        same,
    )
    results.add(
        f"preference page render time ({label})",
        f"20 lists, 30 fields: p50 {large['p50_ms']:.1f} ms, p99 {large['p99_ms']:.1f} ms; "
        f"2 lists, 3 fields: p50 {small['p50_ms']:.1f} ms, p99 {small['p99_ms']:.1f} ms "
        f"(p50 ratio {large['p50_ms'] / small['p50_ms']:.2f}x)",
        "measured (no target)",
        None,
        f"{large['requests']} GETs per size, alternating in rounds, through the full "
        "middleware stack (Django test client, no network)",
    )
