import pytest
from django.core.cache import cache

from crm import services
from crm.choices import Source, SubscriptionState
from prefcenter.preferences.tokens import preference_path
from tests.fixtures.builders import make_person
from tests.fixtures.tasks import run_ready_tasks
from tests.preferences.catalogue import make_catalogue


@pytest.fixture(autouse=True)
def _fresh_rate_limit_counts():
    """Link-request limits count in the cache; each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def catalogue(db):
    return make_catalogue()


@pytest.fixture
def subscriber(catalogue):
    """Ada: a confirmed number, subscribed to Deals, some custom values."""
    person = make_person(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        mdn="+12015550101",
        custom_fields={
            "nickname": "Countess",
            "loyalty_tier": "Gold",
            "internal_score": 7,
            "interests": ["camping"],
        },
    )
    services.subscription_change(
        person=person,
        subscription_list=catalogue.deals,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )
    return person


@pytest.fixture
def newcomer(catalogue):
    """Grace: known by email only, no number, on no list (the common case)."""
    return make_person(first_name="Grace", last_name="Hopper", email="grace@example.com")


@pytest.fixture
def url():
    return preference_path


@pytest.fixture
def run_link_emails():
    """Run the queued link-email tasks in this process and transaction, as the worker would.

    Only this page's tasks run: the sync to Vibes that the builders also queue is tested
    elsewhere and would call a Vibes server here.
    """

    def run() -> int:
        return run_ready_tasks(
            path_prefix="prefcenter.preferences.tasks.", worker_id="pytest-preferences"
        )

    return run
