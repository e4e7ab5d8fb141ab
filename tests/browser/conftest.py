import pytest

from crm import services
from crm.choices import Source
from prefcenter.preferences.tokens import preference_path
from tests.fixtures.builders import make_person
from tests.preferences.catalogue import make_catalogue


@pytest.fixture
def catalogue(transactional_db):
    return make_catalogue()


@pytest.fixture
def subscriber(catalogue):
    """A subscriber on one list with a confirmed number, and custom values set."""
    person = make_person(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        mdn="+12015550101",
        custom_fields={"nickname": "Countess", "loyalty_tier": "Gold", "interests": ["camping"]},
    )
    services.subscription_change(
        person=person,
        subscription_list=catalogue.deals,
        state="subscribed",
        source=Source.VIBES,
    )
    return person


@pytest.fixture
def page_url(live_server):
    def url(person) -> str:
        return f"{live_server.url}{preference_path(person)}"

    return url


@pytest.fixture
def newcomer(catalogue):
    """Known by email only: no number, on no list (the common case)."""
    return make_person(first_name="Grace", last_name="Hopper", email="grace@example.com")
