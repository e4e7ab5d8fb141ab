"""``make bench``: measure prefcenter side by side, print the table, write bench/results.md.

Every figure is a ratio or a count taken within one run (absolute times drift on shared
machines). See docs/bench.md for what each measure does and how to read it.

    .venv/bin/python bench/run.py                       # everything (about 15 minutes)
    .venv/bin/python bench/run.py --only ingest,page    # some measures
    .venv/bin/python bench/run.py --only insert --output bench/work/insert.md  # one measure
    .venv/bin/python bench/run.py --quick               # smaller sizes, a smoke run
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    backfill,
    freshness,
    harness,
    ingest,
    insert,
    outbound,
    page,
    processing,
    readme,
    search,
)

MEASURES = ("ingest", "insert", "processing", "page", "outbound", "freshness", "backfill", "search")
RESULTS = ROOT / "bench" / "results.md"
README = ROOT / "README.md"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        default=",".join(MEASURES),
        help=f"comma-separated measures to run (default all: {','.join(MEASURES)})",
    )
    parser.add_argument(
        "--databases",
        default="sqlite,postgres",
        help="databases for ingest, insert, processing and page (default sqlite,postgres)",
    )
    parser.add_argument(
        "--outbound-databases",
        default="postgres",
        help="databases for the outbound measure (default postgres; sqlite when PostgreSQL "
        "is not reachable)",
    )
    parser.add_argument(
        "--backfill-database",
        default="sqlite",
        help="database for backfill memory (default sqlite: the backfill commits once per "
        "person, which is several times faster there than with PostgreSQL's fsync)",
    )
    parser.add_argument(
        "--backfill-sizes",
        default=None,
        help="the two numbers of persons for backfill memory (default 10000,100000)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and short loads, to check that everything runs (figures not "
        "comparable with the targets); writes bench/work/results-quick.md",
    )
    parser.add_argument("--output", type=Path, default=None, help="where to write the results")
    parser.add_argument(
        "--search-sizes",
        default=None,
        help="the two numbers of persons for the admin search (default 10000,1000000)",
    )
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(args.only) - set(MEASURES)
    if unknown:
        parser.error(f"unknown measures {sorted(unknown)}; choose from {', '.join(MEASURES)}")
    default_sizes = "500,2000" if args.quick else "10000,100000"
    try:
        sizes = [int(size) for size in (args.backfill_sizes or default_sizes).split(",")]
    except ValueError:
        sizes = []
    if len(sizes) != 2 or not 0 < sizes[0] < sizes[1] <= 800_000:
        parser.error("--backfill-sizes takes two growing numbers of persons, e.g. 10000,100000")
    args.backfill_sizes = tuple(sizes)
    default_search = "10000,50000" if args.quick else "10000,1000000"
    try:
        sizes = [int(size) for size in (args.search_sizes or default_search).split(",")]
    except ValueError:
        sizes = []
    if len(sizes) != 2 or not 5_000 < sizes[0] < sizes[1] <= 5_000_000:
        parser.error("--search-sizes takes two growing numbers of persons, e.g. 10000,1000000")
    args.search_sizes = tuple(sizes)
    if args.output is None:
        args.output = harness.WORK / "results-quick.md" if args.quick else RESULTS
    return args


def _databases(names: str, results: harness.Results, postgres: bool) -> list[str]:
    chosen = []
    for name in (item.strip() for item in names.split(",") if item.strip()):
        if name not in {"sqlite", "postgres"}:
            raise SystemExit(f"unknown database {name!r}: use sqlite or postgres")
        if name == "postgres" and not postgres:
            results.note(
                f"PostgreSQL is not reachable at {harness.POSTGRES_URL} (set "
                "BENCH_POSTGRES_URL): its measures are skipped"
            )
            continue
        chosen.append(name)
    return chosen


def _guarded(results: harness.Results, measure: str, function, *args, **kwargs):
    """Run one measure; a failure becomes a row that says so, and the others still run."""
    print(f"\n== {measure}", flush=True)
    started = time.monotonic()
    first_row = len(results.rows)
    load_before = harness.load_average().split(" ")[0]
    try:
        return function(results, *args, **kwargs)
    except Exception as exc:
        traceback.print_exc()
        results.add(measure, f"failed: {str(exc).splitlines()[0][:300]}", "-", False)
        return None
    finally:
        seconds = time.monotonic() - started
        load = f"machine load {load_before} → {harness.load_average().split(' ')[0]}"
        for row in results.rows[first_row:]:
            row.detail = f"{row.detail}; {load}" if row.detail else load
        print(f"   ({seconds:.0f} s, {load})", flush=True)


def _write(
    path: Path, results: harness.Results, machine, command: str, seconds: float, started: str
) -> None:
    lines = [
        "# prefcenter benchmark results",
        "",
        f"Date: {started} (finished {harness.now_text()})",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in machine),
        "",
        f"Command: `{command}`, took {seconds / 60:.1f} minutes",
        "",
        results.markdown(),
        "",
    ]
    if results.notes:
        lines += ["Notes:", "", *(f"- {note}" for note in results.notes), ""]
    lines += [
        "Each figure is a ratio or count measured side by side in this run; see "
        "docs/bench.md for how each measure works.",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def _stop_on_sigterm() -> None:
    def stop(signum, frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    _stop_on_sigterm()
    started = time.monotonic()
    started_at = harness.now_text()
    given = sys.argv[1:] if argv is None else argv
    command = (
        f".venv/bin/python bench/run.py {' '.join(given)}"
        if given
        else ".venv/bin/python bench/run.py` (what `make bench` runs)"
    )
    results = harness.Results()
    machine = harness.machine_description()
    print("prefcenter benchmarks on:")
    for name, value in machine:
        print(f"  {name}: {value}")
    if not shutil.which("wrk"):
        print(
            f"\nwrk is not installed, so the ingest measure is skipped. Install it with:\n"
            f"    {ingest.INSTALL_WRK}\n",
            flush=True,
        )
    postgres = harness.postgres_available()
    databases = _databases(args.databases, results, postgres)
    quick = args.quick
    ingest_rates: dict[str, float | None] = {}
    try:
        for kind in databases:
            if "ingest" in args.only:
                url = harness.fresh_database(kind)
                ingest_rates[kind] = _guarded(
                    results,
                    f"callback ingest ({kind})",
                    ingest.run,
                    database_url=url,
                    label=kind,
                    seconds=3,
                    rounds=2 if quick else 6,
                    open_seconds=3 if quick else 6,
                    open_rounds=1 if quick else 3,
                )
            if "insert" in args.only:
                url = harness.fresh_database(kind)
                _guarded(
                    results,
                    f"callback insert ({kind})",
                    insert.run,
                    database_url=url,
                    label=kind,
                    quick=quick,
                )
            if "processing" in args.only:
                url = harness.fresh_database(kind)
                _guarded(
                    results,
                    f"callback processing ({kind})",
                    processing.run,
                    database_url=url,
                    label=kind,
                    ingest_rps=ingest_rates.get(kind),
                    events=200 if quick else 1200,
                )
            if "page" in args.only:
                url = harness.fresh_database(kind)
                _guarded(
                    results, f"preference page ({kind})", page.run, database_url=url, label=kind
                )
        if "outbound" in args.only:
            kinds = _databases(args.outbound_databases, results, postgres) or ["sqlite"]
            for kind in kinds:
                url = harness.fresh_database(kind)
                _guarded(
                    results,
                    f"outbound sync ({kind})",
                    outbound.run,
                    database_url=url,
                    label=kind,
                    persons=500 if quick else 5000,
                )
        if "freshness" in args.only:
            # make run's layout, so make run's database.
            _guarded(
                results,
                "freshness (sqlite, make run's processes)",
                freshness.run,
                database_url=harness.fresh_database("sqlite"),
                quick=quick,
            )
        if "backfill" in args.only:
            kind = (_databases(args.backfill_database, results, postgres) or ["sqlite"])[0]
            _guarded(
                results,
                f"backfill peak memory ({kind})",
                backfill.run,
                kind=kind,
                sizes=args.backfill_sizes,
            )
        if "search" in args.only:
            if postgres:
                small, large = args.search_sizes
                _guarded(
                    results,
                    "admin person search (postgres)",
                    search.run,
                    database_url=harness.fresh_database("postgres"),
                    small=small,
                    large=large,
                )
            else:
                results.note("the admin search is measured on PostgreSQL only: skipped")
    finally:
        if postgres:
            try:
                harness.drop_postgres()
            except Exception as exc:
                print(f"could not drop the bench database: {exc}", file=sys.stderr)
    seconds = time.monotonic() - started
    print("\n" + results.text_table())
    _write(args.output, results, machine, command, seconds, started_at)
    print(f"\nwritten to {args.output} ({seconds / 60:.1f} minutes)")
    # Only a whole run (``make bench``, no options) becomes the README's table.
    if not given:
        finished = harness.now_text()
        load = dict(machine).get("Load average at start (1, 5, 15 min)", "")
        if readme.update(README, results, started=started_at, finished=finished, load=load):
            print(f"and the table in {README.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
