"""Done when: an access export and an evidence page exist for a demo subscriber."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse

from crm.choices import SubscriptionState
from crm.demo.loader import load_demo
from crm.models import ConsentEvent, Person, Subscription
from tests.access.conftest import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_subscriber(db) -> Person:
    load_demo(persons=20)
    subscribed = Subscription.objects.filter(
        person__external_person_id__startswith="demo-", state=SubscriptionState.SUBSCRIBED
    ).order_by("person_id")
    return subscribed.first().person


def test_a_demo_subscribers_export_holds_their_ledger_and_subscriptions(client, demo_subscriber):
    client.force_login(staff("clerk", "crm.view_person", "access.export_personal_data"))
    url = reverse("admin:access_person_export", args=[demo_subscriber.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"format": "zip"})
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        document = json.loads(archive.read("export.json"))
        ledger_csv = archive.read("consent_events.csv").decode()

    sections = document["sections"]
    ledger_ids = set(
        ConsentEvent.objects.filter(person=demo_subscriber).values_list("pk", flat=True)
    )
    assert ledger_ids
    assert {row["id"] for row in sections["consent_events"]} == ledger_ids
    assert {row["list_id"] for row in sections["subscriptions"]} == set(
        Subscription.objects.filter(person=demo_subscriber).values_list(
            "subscription_list__list_id", flat=True
        )
    )
    assert sections["person"][0]["external_person_id"] == demo_subscriber.external_person_id
    assert len(list(csv.DictReader(io.StringIO(ledger_csv)))) == len(ledger_ids)


def test_a_demo_subscriber_has_an_evidence_page(client, demo_subscriber):
    client.force_login(staff("lawyer", "crm.view_person", "crm.view_consentevent"))
    response = client.get(reverse("admin:access_person_evidence", args=[demo_subscriber.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for list_id in Subscription.objects.filter(person=demo_subscriber).values_list(
        "subscription_list__list_id", flat=True
    ):
        assert f'data-list-id="{list_id}"' in html
    assert html.count("data-action=") == ConsentEvent.objects.filter(person=demo_subscriber).count()
