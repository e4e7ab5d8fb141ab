"""Admin person search: time at 1,000,000 persons against 10,000 on PostgreSQL, for the last
four digits of a number, a part of an email and a part of a name
(see ``management/commands/bench_search.py``)."""

from __future__ import annotations

from bench.harness import Results, environment, manage_json

TARGET_RATIO = 3.0


def run(results: Results, *, database_url: str, small: int, large: int) -> None:
    env = environment(database_url)
    before = manage_json("bench_search", "--persons", str(small), env=env, timeout=1800)
    after = manage_json("bench_search", "--persons", str(large), env=env, timeout=3600)
    for kind, term in before["terms"].items():
        few, many = before["figures"][kind], after["figures"][kind]
        ratio = many["p50_ms"] / few["p50_ms"] if few["p50_ms"] else float("inf")
        plan = (
            "trigram index"
            if many["uses_trigram_index"]
            else ("table scan" if many["scans_table"] else "other plan")
        )
        results.add(
            f"admin person search, {kind} (postgres)",
            f"{large:,} persons: p50 {many['p50_ms']:.1f} ms; {small:,} persons: "
            f"p50 {few['p50_ms']:.1f} ms ({ratio:.2f}x)",
            f"<= {TARGET_RATIO:g}x",
            ratio <= TARGET_RATIO,
            f"term {term!r}: {many['matches']} matches at {large:,} (count capped at 10,001), "
            f"{few['matches']} at {small:,}; a page of 100 newest plus the capped count, "
            f"median of 15 rounds (max {many['max_ms']:.0f} / {few['max_ms']:.0f} ms); plan at "
            f"{large:,}: {plan}; seeded in {after['seed_seconds']:.0f} s",
        )
