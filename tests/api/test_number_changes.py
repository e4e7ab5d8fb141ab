"""Changing a person's number, and removing it, through the API (the same services as the
preference page; the whole round trip with Vibes is in tests/sync/test_number_change.py)."""

from __future__ import annotations

import pytest

from crm import services
from crm.choices import ConsentAction, NumberChangeStatus, OptInStatus, Source
from crm.models import ConsentEvent, NumberChange, OptInRequest
from tests.fixtures.builders import make_list, make_person

pytestmark = pytest.mark.django_db

OLD = "+12015550191"
NEW = "+12015550192"
DISCLOSURE = "By tapping Move my texts you agree: msg&data rates may apply."


def body(**overrides) -> dict:
    return {
        "mdn": NEW,
        "list_ids": ["3001"],
        "disclosure_text": DISCLOSURE,
        "channel": "app",
        "ip_address": "203.0.113.9",
        "user_agent": "App/3.1",
        **overrides,
    }


@pytest.fixture
def subscriber(db):
    deals = make_list(list_id="3001", name="Deals", acquisition_campaign_id="AC3001")
    person = make_person(mdn=OLD)
    services.subscription_change(
        person=person, subscription_list=deals, state="subscribed", source=Source.VIBES
    )
    return person


def test_a_change_of_number_is_asked_and_changes_nothing_yet(api, subscriber):
    response = api.post(f"/api/v1/persons/{subscriber.pk}/number-changes/", body(), format="json")
    assert response.status_code == 202, response.json()
    answer = response.json()
    assert (answer["status"], answer["old_mdn"], answer["new_mdn"]) == ("pending", OLD, NEW)
    [request] = OptInRequest.objects.filter(mdn=NEW)
    assert request.status == OptInStatus.REQUESTED and request.number_change_id == answer["id"]
    asked = ConsentEvent.objects.get(action=ConsentAction.OPT_IN_REQUESTED)
    assert (asked.source, asked.disclosure_text, str(asked.mdn)) == (Source.API, DISCLOSURE, NEW)
    subscriber.refresh_from_db()
    assert str(subscriber.mdn) == OLD
    assert subscriber.subscriptions.get().state == "subscribed"


def test_a_number_of_another_subscriber_answers_conflict_and_sends_nothing(api, subscriber):
    make_person(mdn=NEW, email="other@example.com")
    response = api.post(f"/api/v1/persons/{subscriber.pk}/number-changes/", body(), format="json")
    assert response.status_code == 202
    assert response.json()["status"] == NumberChangeStatus.CONFLICT
    assert not OptInRequest.objects.filter(mdn=NEW).exists()


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [({"mdn": OLD}, "#/mdn"), ({"list_ids": []}, "#/list_ids"), ({"mdn": "12"}, "#/mdn")],
)
def test_bad_input_is_a_problem_and_changes_nothing(api, subscriber, changes, pointer):
    response = api.post(
        f"/api/v1/persons/{subscriber.pk}/number-changes/", body(**changes), format="json"
    )
    assert response.status_code == 400, response.json()
    assert pointer in {error["pointer"] for error in response.json()["errors"]}
    assert not NumberChange.objects.exists()


def test_remove_number_ends_every_list(api, subscriber):
    response = api.post(f"/api/v1/persons/{subscriber.pk}/number/remove/", {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json() == {"person_id": subscriber.pk, "lists_left": ["Deals"]}
    subscriber.refresh_from_db()
    assert subscriber.mdn is None
    assert subscriber.subscriptions.get().state == "unsubscribed"
    again = api.post(f"/api/v1/persons/{subscriber.pk}/number/remove/", {}, format="json")
    assert again.status_code == 400
