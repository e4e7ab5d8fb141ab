"""``bench_search``: the admin's person search at a given number of persons (PostgreSQL).

Grows the persons table to ``--persons`` rows with one ``INSERT ... SELECT
generate_series`` (the search's trigram indexes are dropped during the insert and built
again after it, which is several times faster than updating them row by row), analyses the
table, then times the queries the admin's changelist makes for a search: one page of 100
persons, newest first, and the total counted up to the paginator's limit. Terms are
taken from one person that exists at every size, so each size searches the same text.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

import crm
from bench.harness import percentile, print_json
from crm import selectors
from crm.admin.pagination import LargeTablePaginator
from crm.models import Person

# The indexes as crm's migration creates them (found by name: migrations get renumbered).
_MIGRATION = next(
    path.stem
    for path in (Path(crm.__file__).parent / "migrations").glob("*.py")
    if path.stem.endswith("_person_partial_search_indexes")
)
TRIGRAM_INDEXES = importlib.import_module(f"crm.migrations.{_MIGRATION}").TRIGRAM_INDEXES
# Spread numbers: person i gets (i * 7919) mod 10^7 as its line, distinct for i < 10^7.
INSERT = """
INSERT INTO crm_person (external_person_id, mdn, carrier_code, first_name, last_name, email,
    custom_fields, link_secret, created_at, updated_at, external_id_in_vibes)
SELECT 'search-' || i,
       '+1201' || lpad(((i::bigint * 7919) %% 10000000)::text, 7, '0'),
       '',
       (ARRAY['Ada','Grace','Alan','Edsger','Barbara','Donald','Frances','John','Margaret',
              'Ken','Radia','Tim','Shafi','Leslie','Lynn','Niklaus'])[1 + i %% 16],
       initcap((ARRAY['ka','lo','mi','ne','ro','sa','tu','vi','wo','ya','ze','bi','do','fu',
                      'ga','he'])[1 + (i / 7) %% 16]
            || (ARRAY['ran','vel','dor','min','sek','tal','bur','nok','pim','las','ter',
                      'gol','fan','dix','hul','qua'])[1 + (i / 113) %% 16]
            || (ARRAY['ace','ski','ton','ez','son','ova','ini','berg','ley','aro','ette',
                      'uk','is','an','ov','eau'])[1 + (i / 1811) %% 16]),
       'user' || ((i::bigint * 104729) %% 1000003) || '@'
            || (ARRAY['example.com','example.org','example.net','mail.example'])[1 + i %% 4],
       '{}', md5(i::text), now(), now(), false
FROM generate_series(%s, %s) AS i
"""
MEASURED_PERSON = 4_321
ROUNDS = 15


class Command(BaseCommand):
    help = "Grow the persons table to --persons rows and time the admin's person search."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--persons", type=int, required=True)

    def handle(self, *args, persons: int, **_):
        if connection.vendor != "postgresql":
            raise CommandError("bench_search measures PostgreSQL's indexes: use a PostgreSQL URL")
        if persons <= MEASURED_PERSON:
            raise CommandError(f"--persons must be more than {MEASURED_PERSON}")
        seeded = self._grow(persons)
        person = Person.objects.get(external_person_id=f"search-{MEASURED_PERSON}")
        terms = {
            "number suffix": str(person.mdn)[-4:],
            "email part": person.email.split("@")[0][2:9],
            "name part": person.last_name[2:8].lower(),
        }
        figures = {name: self._time(term) for name, term in terms.items()}
        print_json(
            {
                "persons": Person.objects.count(),
                "seed_seconds": seeded,
                "terms": terms,
                "figures": figures,
            }
        )

    def _grow(self, persons: int) -> float:
        started = time.monotonic()
        have = Person.objects.filter(external_person_id__startswith="search-").count()
        if have < persons:
            with connection.cursor() as cursor:
                for name, _expression in TRIGRAM_INDEXES:
                    cursor.execute(f"DROP INDEX IF EXISTS {name}")
                cursor.execute("SET maintenance_work_mem = '256MB'")
                cursor.execute(INSERT, [have + 1, persons])
                for name, expression in TRIGRAM_INDEXES:
                    cursor.execute(
                        f"CREATE INDEX {name} ON crm_person USING gin ({expression} gin_trgm_ops)"
                    )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE crm_person")
        return round(time.monotonic() - started, 1)

    def _time(self, term: str) -> dict:
        """The changelist's two search queries, ``ROUNDS`` times after one warm-up."""
        queryset = selectors.person_search(term).order_by(selectors.PERSON_SEARCH_ORDERING, "-id")
        limit = LargeTablePaginator.exact_count_limit
        timings = []
        for round_number in range(ROUNDS + 1):
            started = time.perf_counter()
            page = list(queryset[:100])
            counted = queryset.order_by()[: limit + 1].count()
            if round_number:
                timings.append((time.perf_counter() - started) * 1000)
        sql, params = queryset[:100].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        return {
            "matches": counted,
            "page": len(page),
            "p50_ms": round(percentile(timings, 50), 2),
            "max_ms": round(max(timings), 2),
            "uses_trigram_index": "_trgm" in plan,
            "scans_table": "Seq Scan" in plan,
        }
