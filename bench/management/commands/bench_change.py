"""``bench_change``: change bench persons through ``crm.services`` (a staff edit each).

This is how an outbound backlog really arises: each edit writes the change and its
outbox row in one transaction.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from bench.harness import print_json
from crm import services
from crm.choices import Source
from crm.models import Person


class Command(BaseCommand):
    help = "Give --count persons (by id, after --start) a new first name, as staff."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--start", type=int, default=0, help="Skip this many persons.")

    def handle(self, *args, count: int, start: int, **_):
        started = time.monotonic()
        changed = 0
        for person in Person.objects.order_by("id")[start : start + count].iterator():
            services.person_update(
                person=person, source=Source.STAFF, first_name=f"Changed{person.pk}"
            )
            changed += 1
        print_json({"changed": changed, "seconds": time.monotonic() - started})
