"""The callback store's hand-built INSERT against the ORM's ``create()``, side by side
(see ``management/commands/bench_insert.py``).

The rule (docs/bench.md): the hand-built INSERT stays only while it saves 5 % or more of
the request's time; the ORM's insert is the default otherwise.
"""

from __future__ import annotations

from bench.harness import Results, environment, manage_json

KEEP_FROM = 1.05  # the ORM's request must take at least this much longer


def run(results: Results, *, database_url: str, label: str, quick: bool = False) -> None:
    sizes = ["--rounds", "2", "--inserts", "300", "--requests", "100"] if quick else []
    figures = manage_json("bench_insert", *sizes, env=environment(database_url))
    insert, request = figures["insert"], figures["request"]
    rounds = " ".join(f"{ratio:.2f}" for ratio in request["round_ratios"])
    results.add(
        f"callback insert: ORM vs hand-built ({label})",
        f"request with the ORM's create() / with the hand-built INSERT = "
        f"{request['ratio']:.3f}x ({request['orm_us']:.0f} vs {request['hand_built_us']:.0f} µs); "
        f"the insert alone {insert['ratio']:.3f}x ({insert['orm_us']:.0f} vs "
        f"{insert['hand_built_us']:.0f} µs)",
        "the hand-built INSERT kept only while the request ratio is >= 1.05x",
        request["ratio"] >= KEEP_FROM,
        f"{figures['rounds']} rounds alternated, {figures['requests']} POSTs (test client, "
        f"full middleware stack) and {figures['inserts']} inserts per side per round, medians "
        f"of the per-round ratios; request ratio in each round: {rounds}",
    )
