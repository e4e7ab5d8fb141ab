"""``bench_freshness_setup``: what the freshness measure needs besides the bench persons.

The CRM gets the sandbox's list (as the catalogue would give it), and the measure gets
each bench person's preference page path, which only the site's secret can sign.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from bench import data
from bench.harness import print_json
from crm import services
from crm.choices import Source
from crm.models import Person
from prefcenter.preferences.tokens import preference_path


class Command(BaseCommand):
    help = "Create the bench list in the CRM and print the bench persons' page paths (JSON)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--list-id", default=data.BENCH_LIST_ID)
        parser.add_argument("--campaign-id", default="")

    def handle(self, *args, count: int, list_id: str, campaign_id: str, **_):
        services.subscription_list_upsert(
            list_id=list_id,
            source=Source.VIBES,
            name="Freshness bench list",
            acquisition_campaign_id=campaign_id,
        )
        persons = Person.objects.filter(
            external_person_id__in=[data.external_id(n) for n in range(count)]
        )
        print_json(
            {"paths": {person.external_person_id: preference_path(person) for person in persons}}
        )
