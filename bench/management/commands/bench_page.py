"""``bench_page``: the preference page's queries and render time, small and large catalogue.

One catalogue of 20 lists and 30 custom fields (every field type, the person subscribed
to some lists, waiting for confirmation on others, a value in every field). The small
case shows only 2 of the lists and 3 of the fields to subscribers; switching between the
two is one UPDATE, so the rounds alternate small and large and a shared machine's drift
hits both alike. Requests go through Django's test client: the whole middleware stack,
the view and the templates, against the real database, without a network in between.
"""

from __future__ import annotations

import re
import time

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import data
from bench.harness import percentile, print_json
from crm import services
from crm.choices import CustomFieldType, Source, SubscriptionState
from crm.models import CustomField, Person, SubscriptionList
from prefcenter.preferences.tokens import preference_path

LISTS, FIELDS = 20, 30
SMALL_LISTS, SMALL_FIELDS = 2, 3
FIELD_TYPES = [
    (CustomFieldType.TEXT, [], "hello"),
    (CustomFieldType.NUMBER, [], 3),
    (CustomFieldType.DATE, [], "2020-01-31"),
    (CustomFieldType.BOOLEAN, [], True),
    (CustomFieldType.CHOICE, [{"key": "a", "label": "A"}, {"key": "b", "label": "B"}], "b"),
    (
        CustomFieldType.MULTIPLE_CHOICE,
        [{"key": "x", "label": "X"}, {"key": "y", "label": "Y"}],
        ["x"],
    ),
]


def build_catalogue() -> Person:
    person = services.person_create(
        external_person_id=data.external_id(0),
        source=Source.STAFF,
        first_name="Page",
        last_name="Bench",
        email="page@example.com",
        mdn=data.mdn(0),
    )
    for n in range(LISTS):
        subscription_list, _ = services.subscription_list_upsert(
            list_id=f"page-{n}",
            source=Source.STAFF,
            name=f"List {n}",
            description=f"What list {n} sends, and how often.",
            disclosure=f"Up to 4 msgs/mo for list {n}. Msg&data rates may apply. Reply STOP "
            "to cancel, HELP for help.",
            acquisition_campaign_id=f"AC-page-{n}",
            order=n,
        )
        if n % 3 == 0:
            services.subscription_change(
                person=person,
                subscription_list=subscription_list,
                state=SubscriptionState.SUBSCRIBED,
                source=Source.VIBES,
            )
        elif n % 3 == 1:
            services.opt_in_request(
                person=person,
                mdn=data.mdn(1),
                subscription_lists=[subscription_list],
                source=Source.PREFERENCE_CENTER,
            )
    values = {}
    for n in range(FIELDS):
        field_type, options, value = FIELD_TYPES[n % len(FIELD_TYPES)]
        field = CustomField(
            key=f"field_{n}", label=f"Field {n}", field_type=field_type, options=options, order=n
        )
        field.full_clean()
        field.save()
        values[field.key] = value
    services.person_update(person=person, source=Source.STAFF, custom_fields=values)
    return person


def show(lists: int, fields: int) -> None:
    """Show the first ``lists`` lists and ``fields`` fields to subscribers, hide the rest."""
    SubscriptionList.objects.update(shown_in_preference_center=False)
    SubscriptionList.objects.filter(order__lt=lists).update(shown_in_preference_center=True)
    CustomField.objects.update(visible_to_subscribers=False)
    CustomField.objects.filter(order__lt=fields).update(visible_to_subscribers=True)


class Command(BaseCommand):
    help = "Measure queries and render time of the preference page, small and large."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--rounds", type=int, default=4)
        parser.add_argument("--requests", type=int, default=50)

    def handle(self, *args, rounds: int, requests: int, **_):
        person = build_catalogue()
        path = preference_path(person)
        client = Client()
        cases = {"small": (SMALL_LISTS, SMALL_FIELDS), "large": (LISTS, FIELDS)}
        queries: dict[str, set[int]] = {name: set() for name in cases}
        times: dict[str, list[float]] = {name: [] for name in cases}
        sizes: dict[str, int] = {}
        for _round in range(rounds):
            for name, (lists, fields) in cases.items():
                show(lists, fields)
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"the page answered {response.status_code}")
                queries[name].add(len(captured))
                page = response.content.decode()
                sizes[name] = page.count('class="list-item ')
                sizes[f"{name}_fields"] = len(set(re.findall(r'name="details-cf_([^"]+)"', page)))
                for _n in range(requests):
                    started = time.perf_counter()
                    response = client.get(path)
                    times[name].append((time.perf_counter() - started) * 1000)
        print_json(
            {
                name: {
                    "queries": sorted(queries[name]),
                    "p50_ms": percentile(times[name], 50),
                    "p99_ms": percentile(times[name], 99),
                    "requests": len(times[name]),
                    "lists_shown": sizes[name],
                    "fields_shown": sizes[f"{name}_fields"],
                }
                for name in cases
            }
        )
