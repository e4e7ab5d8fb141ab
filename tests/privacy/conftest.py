"""Fixtures of the privacy tests: a person known to Vibes and subscribed there."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from crm import services
from crm.choices import OptInStatus, Source
from crm.models import Person, SubscriptionList
from tests.fixtures.builders import make_list, make_person
from tests.sync.conftest import settle

MDN = "+12015550177"
EMAIL = "Erin.Erasable@example.com"


@dataclass
class Subscribed:
    person: Person
    deals: SubscriptionList
    mdn: str
    email: str


@pytest.fixture
def deals(db) -> SubscriptionList:
    """The CRM's side of the sandbox's list 1001 (keyword DEALS, campaign AC1001)."""
    return make_list(
        list_id="1001", name="Deals & offers", acquisition_campaign_id="AC1001", keyword="DEALS"
    )


def subscribe_in_vibes(sandbox, *, mdn: str, email: str, deals: SubscriptionList) -> Person:
    """A person created in the CRM, sent to Vibes, and opted in to 1001 by web opt-in."""
    person = make_person(first_name="Erin", last_name="Erasable", email=email)
    services.opt_in_request(
        person=person,
        mdn=mdn,
        subscription_lists=[deals],
        source=Source.PREFERENCE_CENTER,
        consent=services.ConsentContext(ip_address="203.0.113.77", user_agent="ErinPhone/1.0"),
    )
    settle()
    sandbox.control.phone_reply(mdn, "Y")
    request = person.opt_in_requests.get()
    services.opt_in_request_update(
        opt_in_request=request, status=OptInStatus.CONFIRMED, source=Source.VIBES
    )
    [vibes_person] = [p for p in sandbox.control.persons() if p["mdn"] == mdn]
    services.person_update(
        person=person, source=Source.VIBES, person_key=vibes_person["person_key"], mdn=mdn
    )
    person.refresh_from_db()
    return person


@pytest.fixture
def subscribed(vibes_sandbox, deals, fast_sync) -> Subscribed:
    person = subscribe_in_vibes(vibes_sandbox, mdn=MDN, email=EMAIL, deals=deals)
    return Subscribed(person=person, deals=deals, mdn=MDN, email=EMAIL)


@pytest.fixture
def fast_sync(settings):
    settings.VIBES_SYNC_BACKOFF_BASE = 0.01
    settings.VIBES_SYNC_BACKOFF_MAX = 0.05
    settings.VIBES_SYNC_MAX_ATTEMPTS = 30
    return settings
