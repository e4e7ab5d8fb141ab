"""Against the Vibes sandbox over real HTTP: registration, the phone, retried deliveries.

The sandbox (a real HTTP server) calls the site under test (``live_server``) exactly as
Vibes would; the site stores what arrives and the tests process it in-process.
"""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import CommandError, call_command

from crm.choices import ConsentAction, OptOutReason, Source, SubscriptionState
from crm.models import ConsentEvent, Person, Subscription
from tests.fixtures.builders import make_list
from tests.fixtures.callbacks import database_locked, process_callbacks
from tests.fixtures.sandbox import contract_variants
from vibes_integration.callbacks.models import CallbackEvent, CallbackStatus
from vibes_integration.callbacks.registration import REGISTERED_TYPES

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("open_callbacks")]

SUBSCRIBER = "+12015550188"


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("vibes_callbacks", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def site_url(live_server, settings) -> str:
    settings.VIBES_CALLBACK_BASE_URL = f"{live_server.url}/vibes/callbacks/"
    return settings.VIBES_CALLBACK_BASE_URL


@pytest.fixture
def crm_lists(db):
    """The sandbox's three lists and their web opt-in campaigns, known to the CRM: Vibes
    delivers a list's subscription callbacks only through that list's registration."""
    return [
        make_list(list_id=list_id, acquisition_campaign_id=f"AC{list_id}")
        for list_id in ("1001", "1002", "1003")
    ]


@pytest.fixture
def registered(vibes_sandbox, site_url, crm_lists):
    _command("register")
    return vibes_sandbox


# Per list: subscription_added and _removed; per campaign: the two acquisition types;
# once: person_added, person_updated and the two list-catalogue types.
REGISTRATIONS = 3 * 2 + 3 * 2 + 4


def _delivered(sandbox, timeout: float = 20) -> list[dict]:
    sandbox.control.wait_for_deliveries(timeout=timeout)
    return sandbox.control.deliveries()


def test_register_covers_every_registered_type_and_twice_registers_nothing_new(
    vibes_sandbox, site_url, crm_lists
):
    first = _command("register")
    registrations = vibes_sandbox.control.callbacks()

    second = _command("register")

    assert {r["callback_type"] for r in registrations} == {str(t) for t in REGISTERED_TYPES}
    assert all(r["destination"]["url"] == site_url for r in registrations)
    assert f"Done: {REGISTRATIONS} new, 0 already there, 0 removed." in first
    assert f"Done: 0 new, {REGISTRATIONS} already there, 0 removed." in second
    assert vibes_sandbox.control.callbacks() == registrations


def test_register_puts_credentials_in_the_url_and_updates_on_rotation(
    vibes_sandbox, site_url, settings, crm_lists
):
    settings.VIBES_CALLBACK_CREDENTIALS = [("vibes", "first-secret")]
    _command("register")
    settings.VIBES_CALLBACK_CREDENTIALS = [("vibes", "second-secret"), ("vibes", "first-secret")]

    output = _command("register")

    urls = {r["destination"]["url"] for r in vibes_sandbox.control.callbacks()}
    assert urls == {site_url.replace("http://", "http://vibes:second-secret@")}
    assert "second-secret" not in output
    actions = [line.split()[0] for line in output.splitlines()[1:-1]]
    assert actions == ["updated"] * REGISTRATIONS


def test_register_does_not_take_over_another_systems_registration(vibes_sandbox, site_url):
    vibes_sandbox.client().register_callback(
        "person_added", url="https://other.example.com/hook", method="POST"
    )

    with pytest.raises(CommandError, match="1 registration"):
        _command("register")

    output = _command("register", "--replace")
    assert "updated  person_added" in output
    person_added = [
        r for r in vibes_sandbox.control.callbacks() if r["callback_type"] == "person_added"
    ]
    assert [r["destination"]["url"] for r in person_added] == [site_url]


def test_list_and_delete(registered):
    listed = _command("list")
    assert listed.count("(ours)") == REGISTRATIONS
    assert "subscription_removed" in listed

    deleted = _command("delete", "--ours")

    assert deleted.count("Deleted callback") == REGISTRATIONS
    assert registered.control.callbacks() == []
    assert "No callbacks are registered." in _command("list")


def test_the_test_command_makes_vibes_send_its_test_event_which_applies_nothing(registered):
    output = _command("test", "subscription_added", "--wait", "15")

    assert "Received at" in output
    event = CallbackEvent.objects.get()
    assert event.callback_type == "subscription_added"
    process_callbacks()
    event.refresh_from_db()
    assert event.status == CallbackStatus.IGNORED
    assert not Person.objects.exists()


def test_a_keyword_then_stop_on_the_phone_reaches_the_crm(registered):
    registered.control.phone_reply(SUBSCRIBER, "DEALS")
    _delivered(registered)
    process_callbacks()

    person = Person.objects.get(mdn=SUBSCRIBER)
    assert person.external_person_id == f"vibes-{person.person_key}"
    subscription = Subscription.objects.get(person=person, subscription_list__list_id="1001")
    assert subscription.state == SubscriptionState.SUBSCRIBED

    registered.control.phone_reply(SUBSCRIBER, "STOP")
    _delivered(registered)
    process_callbacks()

    subscription.refresh_from_db()
    assert subscription.state == SubscriptionState.UNSUBSCRIBED
    assert subscription.opt_out_reason == OptOutReason.USER_OPT_OUT
    assert subscription.source == Source.VIBES
    opt_out = ConsentEvent.objects.get(person=person, action=ConsentAction.OPTED_OUT)
    assert opt_out.source == Source.VIBES
    assert opt_out.opt_out_reason == OptOutReason.USER_OPT_OUT
    assert str(opt_out.mdn) == SUBSCRIBER
    statuses = set(CallbackEvent.objects.values_list("status", flat=True))
    assert statuses == {CallbackStatus.PROCESSED}


def test_put_and_text_json_registrations_are_received(vibes_sandbox, site_url, crm_lists):
    _command("register", "--method", "PUT", "--content-type", "text/json")

    vibes_sandbox.control.phone_reply(SUBSCRIBER, "EVENTS")
    deliveries = _delivered(vibes_sandbox)

    assert {(d["method"], d["content_type"]) for d in deliveries} == {("PUT", "text/json")}
    assert {d["status"] for d in deliveries} == {200}
    events = CallbackEvent.objects.all()
    assert {(e.method, e.headers["Content-Type"]) for e in events} == {("PUT", "text/json")}
    process_callbacks()
    assert Subscription.objects.get(subscription_list__list_id="1003").state == "subscribed"


def test_deliveries_refused_with_503_while_the_database_is_locked_land_on_retry(registered):
    registered.control.set_faults(backoff_ms=300, backoff_factor=1.5, max_attempts=10)

    with database_locked():
        registered.control.phone_reply(SUBSCRIBER, "DEALS")
        registered.control.phone_reply("+12015550189", "ORDERS")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            refused = [d for d in registered.control.deliveries() if d["status"] == 503]
            if len({d["event_id"] for d in refused}) >= 2:
                break
            time.sleep(0.1)
        assert refused, "the sandbox never saw a 503"

    deliveries = _delivered(registered, timeout=60)

    event_ids = {d["event_id"] for d in deliveries}
    delivered = {d["event_id"] for d in deliveries if d["outcome"] == "delivered"}
    assert delivered == event_ids
    assert {d["outcome"] for d in deliveries} == {"retry", "delivered"}
    assert set(CallbackEvent.objects.values_list("event_id", flat=True)) == event_ids
    process_callbacks()
    assert Subscription.objects.filter(state=SubscriptionState.SUBSCRIBED).count() == 2


@pytest.mark.parametrize("sandbox_contract", contract_variants("callback_person"), indirect=True)
def test_duplicates_shuffling_and_every_spelling_from_the_sandbox(registered, sandbox_contract):
    registered.control.set_faults(
        duplicate_rate=0.5,
        shuffle=True,
        date_format="mixed",
        mdn_format="national",
    )
    numbers = [f"+120155501{n}" for n in range(60, 70)]
    for mdn in numbers:
        registered.control.phone_reply(mdn, "DEALS")
    for mdn in numbers[:5]:
        registered.control.phone_reply(mdn, "STOP")

    deliveries = _delivered(registered, timeout=60)
    process_callbacks()

    assert any(d["duplicate"] for d in deliveries)
    assert CallbackEvent.objects.count() == len({d["event_id"] for d in deliveries})
    assert {e.status for e in CallbackEvent.objects.all()} <= {
        CallbackStatus.PROCESSED,
        CallbackStatus.STALE,
    }
    states = {
        str(s.person.mdn): s.state
        for s in Subscription.objects.select_related("person").filter(
            subscription_list__list_id="1001"
        )
    }
    assert states == {
        mdn: (
            SubscriptionState.UNSUBSCRIBED if mdn in numbers[:5] else SubscriptionState.SUBSCRIBED
        )
        for mdn in numbers
    }
