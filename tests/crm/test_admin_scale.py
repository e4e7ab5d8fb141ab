"""Admin pages that stay fast with a million persons: a fixed number of queries per page,
no count of the whole table, and searches that use indexes.

A million rows is too many for a test run; these tests check the properties that make the
pages independent of the table's size instead (the benchmarks measure the time).
"""

import re

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm import selectors, services
from crm.admin.pagination import LargeTablePaginator
from crm.choices import Source, SubscriptionState
from crm.demo.people import MAX_PERSONS, demo_mdn
from crm.models import ConsentEvent, OptInRequest, Person, Subscription, SubscriptionList
from tests.fixtures.builders import make_list, make_person

pytestmark = pytest.mark.django_db


def _queries(client, url, params=None) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize(
    ("model", "params"),
    [
        (Person, {}),
        (Person, {"subscribed_to": "first-list"}),
        (Person, {"q": "example.com"}),
        (Person, {"has_mdn": "yes", "created_at__gte": "2000-01-01 00:00:00+00:00"}),
        (Subscription, {}),
        (Subscription, {"state__exact": "subscribed"}),
        (ConsentEvent, {}),
        (ConsentEvent, {"q": "demo:web"}),
        (OptInRequest, {}),
    ],
)
def test_changelist_queries_do_not_grow_with_rows(
    admin_client, shared_demo, monkeypatch, model, params
):
    """The same page showing 5 rows or up to 40 makes the same queries: nothing per row."""
    first_list = SubscriptionList.objects.order_by("order").first()
    params = {k: str(first_list.pk) if v == "first-list" else v for k, v in params.items()}
    url = reverse(f"admin:crm_{model._meta.model_name}_changelist")
    model_admin = admin.site._registry[model]
    admin_client.get(url, params)  # caches (content types, ...) filled
    monkeypatch.setattr(model_admin, "list_per_page", 5)
    few_queries = _queries(admin_client, url, params)
    few_rows = admin_client.get(url, params).context["cl"].result_list
    monkeypatch.setattr(model_admin, "list_per_page", 40)
    many_queries = _queries(admin_client, url, params)
    many_rows = admin_client.get(url, params).context["cl"].result_list
    assert len(few_rows) == 5
    assert len(many_rows) > len(few_rows)
    assert len(many_queries) == len(few_queries), "\n".join(many_queries)


def test_person_page_queries_do_not_grow_with_history(admin_client, shared_demo):
    mdn = demo_mdn(MAX_PERSONS - 1)  # a number no demo person has
    person = make_person(mdn=mdn)
    url = reverse("admin:crm_person_change", args=[person.pk])

    def history(lists, rounds):
        for _ in range(rounds):
            for subscription_list in lists:
                for state in (SubscriptionState.SUBSCRIBED, SubscriptionState.UNSUBSCRIBED):
                    services.subscription_change(
                        person=person,
                        subscription_list=subscription_list,
                        state=state,
                        source=Source.VIBES,
                    )
            services.opt_in_request(
                person=person,
                mdn=mdn,
                subscription_lists=lists,
                source=Source.PREFERENCE_CENTER,
            )

    history([make_list()], rounds=1)
    admin_client.get(url)  # caches (content types, ...) filled
    few = _queries(admin_client, url)
    history([make_list() for _ in range(4)], rounds=3)
    many = _queries(admin_client, url)
    assert person.subscriptions.count() == 5
    assert person.consent_events.count() > 20
    assert len(many) == len(few), "\n".join(many)


def test_filter_counts_are_never_computed(admin_client, shared_demo):
    url = reverse("admin:crm_person_changelist")
    admin_client.get(url)
    plain = _queries(admin_client, url)
    with_facets = _queries(admin_client, url, {"_facets": "1"})
    assert len(with_facets) == len(plain)


def test_no_changelist_counts_the_whole_table(admin_client, shared_demo, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "exact_count_limit", 10)
    for model in ("person", "subscription", "consentevent", "optinrequest"):
        queries = _queries(admin_client, reverse(f"admin:crm_{model}_changelist"))
        counts = [sql for sql in queries if re.search(r"COUNT\(", sql, re.IGNORECASE)]
        assert counts, model
        assert all("LIMIT 11" in sql for sql in counts), counts


def test_a_long_list_says_more_than_the_limit(admin_client, shared_demo, monkeypatch):
    monkeypatch.setattr(LargeTablePaginator, "exact_count_limit", 10)
    page = admin_client.get(reverse("admin:crm_person_changelist"), {"has_mdn": "yes"})
    assert "more than 10 persons" in page.content.decode()
    one = Person.objects.order_by("pk").first()
    short = admin_client.get(reverse("admin:crm_person_changelist"), {"q": one.external_person_id})
    assert "1 person" in short.content.decode()


def test_postgresql_takes_the_unfiltered_total_from_the_planner(
    admin_client, shared_demo, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("the planner's row estimate is PostgreSQL's")
    monkeypatch.setattr(LargeTablePaginator, "exact_count_limit", 10)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_person")
    queries = _queries(admin_client, reverse("admin:crm_person_changelist"))
    assert not [sql for sql in queries if "COUNT(" in sql.upper()]
    page = admin_client.get(reverse("admin:crm_person_changelist"))
    assert "about 40 persons" in page.content.decode()


SEARCHES = [
    "(201) 555-0123",
    "ext-000001",
    "ada@example.com",
    "Ada",
    "Ada Lovelace",
    "0123",
    "velac",
    "example.c",
]


@pytest.mark.parametrize("term", SEARCHES)
def test_person_search_uses_indexes_on_postgresql(term):
    """Every branch of the search must be an index lookup: one unindexed branch would make
    the database read the whole table."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite finds parts of names, emails and numbers by reading the table")
    queryset = selectors.person_search(term).order_by("-id")[:50]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # With so few rows the planner would rightly scan; forbid it to see the indexes.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    assert "Index" in plan, plan


@pytest.mark.parametrize("term", ["Ad", "A", "ad"])
def test_short_terms_use_indexes_on_sqlite(term):
    """Terms too short to be a part (under three characters) are prefix lookups that
    SQLite answers from its indexes too."""
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite plan")
    queryset = selectors.person_search(term).order_by("-id")[:50]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
    assert "MULTI-INDEX OR" in plan, plan
    assert not re.search(r"\bSCAN crm_person\b(?! USING)", plan), plan
