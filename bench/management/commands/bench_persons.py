"""``bench_persons``: seed bench persons in bulk, optionally also in the Vibes sandbox."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand, CommandError

from bench import data
from bench.harness import print_json
from crm.models import Person
from vibes_integration.client import VibesClient
from vibes_integration.errors import VibesError


class Command(BaseCommand):
    help = "Insert bench persons bench-<start>..bench-<start+count-1> (bulk, for seeding only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--start", type=int, default=0)
        parser.add_argument("--with-person-key", action="store_true")
        parser.add_argument(
            "--in-vibes",
            action="store_true",
            help="Also add each person to the Vibes at VIBES_API_URL (the sandbox) and keep "
            "the person key it answers, as after a sync.",
        )

    def handle(self, *args, count: int, start: int, with_person_key: bool, in_vibes: bool, **_):
        if count <= 0 or start < 0 or start + count > 800_000:
            raise CommandError("--count and --start must stay within 0..800,000 persons")
        started = time.monotonic()
        batch: list[Person] = []
        for index in range(start, start + count):
            batch.append(
                Person(
                    external_person_id=data.external_id(index),
                    person_key=data.person_key(index) if with_person_key else None,
                    mdn=data.mdn(index),
                    first_name=f"Bench{index}",
                    last_name="Person",
                    email=f"bench{index}@example.com",
                )
            )
            if len(batch) == 5000:
                Person.objects.bulk_create(batch)
                batch = []
        if batch:
            Person.objects.bulk_create(batch)
        seeded = time.monotonic() - started
        vibes_seconds = self._add_to_vibes(start, count) if in_vibes else 0.0
        print_json({"persons": count, "seconds": seeded, "vibes_seconds": vibes_seconds})

    def _add_to_vibes(self, start: int, count: int) -> float:
        client = VibesClient.from_settings()
        failures: list[str] = []

        keys: dict[str, str] = {}

        def add(index: int) -> None:
            try:
                result = client.add_person(
                    {
                        "external_person_id": data.external_id(index),
                        "mobile_phone": {"mdn": data.mdn(index)},
                        "custom_fields": {"first_name": f"Bench{index}", "last_name": "Person"},
                    }
                )
            except VibesError as exc:
                failures.append(str(exc))
                return
            keys[data.external_id(index)] = result.person["person_key"]

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(add, range(start, start + count)))
        if failures:
            raise CommandError(f"{len(failures)} persons not added to Vibes, e.g. {failures[0]}")
        # The CRM learns each person's Vibes key, as it does after a sync.
        persons = list(Person.objects.filter(external_person_id__in=keys))
        for person in persons:
            person.person_key = keys[person.external_person_id]
        Person.objects.bulk_update(persons, ["person_key"], batch_size=2000)
        return time.monotonic() - started
