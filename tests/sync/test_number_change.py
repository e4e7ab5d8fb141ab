"""Changing a confirmed number, end to end through the sandbox: the new number joins on a
Vibes person of its own, only its Y moves the lists, a No or a lapse keeps the old ones,
and "Remove my number" ends every list and removes the number in Vibes."""

from __future__ import annotations

import pytest

from crm import services
from crm.choices import ConsentAction, NumberChangeStatus, OptOutReason, Source, SubscriptionState
from crm.models import ConsentEvent, NumberChange
from tests.fixtures.builders import make_list, make_person
from tests.fixtures.callbacks import deliver
from tests.sandbox.conftest import register_all
from tests.sync.conftest import settle, vibes_calls

pytestmark = pytest.mark.django_db

OLD = "+12015550161"
NEW = "+12015550162"


class Loop:
    """Vibes' callbacks, caught by a real HTTP receiver, handed to the CRM's endpoint."""

    def __init__(self, sandbox, receiver, client) -> None:
        self.sandbox = sandbox
        self.receiver = receiver
        self.client = client
        self.delivered = 0
        register_all(sandbox.client(), receiver.url)

    def run(self) -> None:
        for _ in range(3):
            settle()
            self.sandbox.control.wait_for_deliveries()
            bodies = self.receiver.bodies()[self.delivered :]
            self.delivered += len(bodies)
            for body in bodies:
                deliver(self.client, body)
        settle()

    def reply(self, mdn: str, text: str) -> None:
        self.sandbox.control.phone_reply(mdn, text)
        self.run()

    def active_lists(self, mdn: str) -> set[str]:
        control = self.sandbox.control
        keys = {p["person_key"] for p in control.persons() if p.get("mdn") == mdn}
        return {
            s["list_id"]
            for s in control.subscriptions()
            if s["person_key"] in keys and not s.get("opt_out_date")
        }

    def texts_to(self, mdn: str) -> list[str]:
        return [
            m["text"]
            for m in self.sandbox.control.phone_messages(mdn=mdn)
            if m["direction"] == "out"
        ]


@pytest.fixture
def loop(vibes_sandbox, callback_receiver, client, open_callbacks):
    return Loop(vibes_sandbox, callback_receiver, client)


@pytest.fixture
def lists(db):
    deals = make_list(
        list_id="1001", name="Deals & offers", acquisition_campaign_id="AC1001", keyword="DEALS"
    )
    orders = make_list(
        list_id="1002", name="Order updates", acquisition_campaign_id="AC1002", keyword="ORDERS"
    )
    return deals, orders


@pytest.fixture
def subscriber(loop, lists):
    """Ada, on Deals with a confirmed number, known to Vibes by key."""
    deals, _ = lists
    person = make_person(first_name="Ada", email="ada@example.com")
    services.opt_in_request(
        person=person, mdn=OLD, subscription_lists=[deals], source=Source.PREFERENCE_CENTER
    )
    loop.run()
    loop.reply(OLD, "Y")
    person.refresh_from_db()
    assert str(person.mdn) == OLD and person.person_key
    assert loop.active_lists(OLD) == {"1001"}
    return person


def ask(person, lists, mdn=NEW) -> NumberChange:
    return services.number_change_request(
        person=person,
        mdn=mdn,
        subscription_lists=lists,
        source=Source.PREFERENCE_CENTER,
        consent=services.ConsentContext(disclosure_text="Tap Text me to confirm: terms."),
    )


def states(person) -> dict[str, str]:
    return {s.subscription_list.list_id: s.state for s in person.subscriptions.all()}


def test_y_moves_the_chosen_lists_to_the_new_number(loop, subscriber, lists):
    deals, orders = lists
    old_key = subscriber.person_key
    texts_to_old = len(loop.texts_to(OLD))
    loop.sandbox.control.clear_calls()
    before = next(p for p in loop.sandbox.control.persons() if p["person_key"] == old_key)
    assert before["custom_fields"]["first_name"] == "Ada"
    change = ask(subscriber, [deals, orders])
    loop.run()

    participants = vibes_calls(loop.sandbox, path_part="/participants")
    assert {call["body"]["mobile_phone"]["mdn"] for call in participants} == {NEW}
    assert all("external_person_id" not in call["body"] for call in participants)
    assert len(loop.texts_to(NEW)) == 2  # Vibes' own confirmation texts, one per list
    assert len(loop.texts_to(OLD)) == texts_to_old
    assert loop.active_lists(NEW) == set()  # nothing on the new number before Y
    subscriber.refresh_from_db()
    assert str(subscriber.mdn) == OLD
    assert states(subscriber) == {"1001": "subscribed", "1002": "pending"}

    loop.reply(NEW, "Y")  # confirms the newest request (Order updates)
    loop.reply(NEW, "Y")  # and then Deals
    change.refresh_from_db()
    subscriber.refresh_from_db()
    assert change.status == NumberChangeStatus.COMPLETED
    assert str(subscriber.mdn) == NEW
    assert subscriber.person_key == change.new_person_key != old_key
    assert states(subscriber) == {"1001": "subscribed", "1002": "subscribed"}
    assert loop.active_lists(NEW) == {"1001", "1002"}
    assert loop.active_lists(OLD) == set()
    old_person = next(p for p in loop.sandbox.control.persons() if p["person_key"] == old_key)
    assert old_person["mdn"] is None and old_person["external_person_id"] is None
    # Nothing of the subscriber stays on the record nobody is linked to any more; the
    # new number's person carries the details instead.
    assert old_person["custom_fields"].get("first_name") is None
    assert old_person["custom_fields"].get("email") is None
    new_person = next(p for p in loop.sandbox.control.persons() if p["mdn"] == NEW)
    assert new_person["external_person_id"] == subscriber.external_person_id
    assert new_person["custom_fields"]["first_name"] == "Ada"
    # No CRM person was made from the callbacks of either Vibes person.
    assert list(type(subscriber).objects.all()) == [subscriber]

    ledger = ConsentEvent.objects.filter(person=subscriber, subscription_list=deals)
    [opted_out] = ledger.filter(action=ConsentAction.OPTED_OUT)
    assert str(opted_out.mdn) == OLD
    assert opted_out.opt_out_reason == OptOutReason.NUMBER_CHANGED
    [requested] = ledger.filter(action=ConsentAction.OPT_IN_REQUESTED, mdn=NEW)
    assert "Text me to confirm" in requested.disclosure_text
    # The opted-in line proves on its own what was shown: the request's disclosure.
    [opted_in] = ledger.filter(action=ConsentAction.OPTED_IN, mdn=NEW)
    assert opted_in.disclosure_text == requested.disclosure_text


@pytest.mark.parametrize("answer", ["N", "lapse"])
def test_no_or_lapse_keeps_the_old_number_and_its_lists(loop, subscriber, lists, answer):
    deals, orders = lists
    change = ask(subscriber, [deals, orders])
    loop.run()
    if answer == "N":
        loop.reply(NEW, "N")
        loop.reply(NEW, "N")
    else:
        assert loop.sandbox.control.expire_pending(mdn=NEW) == 2
        for request in change.opt_in_requests.all():
            services.opt_in_request_update(
                opt_in_request=request, status="expired", source=Source.VIBES
            )
        loop.run()
    change.refresh_from_db()
    subscriber.refresh_from_db()
    expected = NumberChangeStatus.REJECTED if answer == "N" else NumberChangeStatus.EXPIRED
    assert change.status == expected
    assert str(subscriber.mdn) == OLD
    assert states(subscriber) == {"1001": "subscribed", "1002": "unsubscribed"}
    assert loop.active_lists(OLD) == {"1001"}
    assert loop.active_lists(NEW) == set()
    assert not ConsentEvent.objects.filter(
        person=subscriber, action=ConsentAction.OPTED_OUT
    ).exists()


def test_a_number_of_another_subscriber_is_a_conflict_and_sends_nothing(loop, subscriber, lists):
    deals, _ = lists
    other = make_person(first_name="Bob", email="bob@example.com", mdn=NEW)
    loop.run()
    loop.sandbox.control.clear_calls()
    change = ask(subscriber, [deals])
    loop.run()
    assert change.status == NumberChangeStatus.CONFLICT
    assert change.conflict_person == other
    assert not vibes_calls(loop.sandbox, path_part="/participants")
    other.refresh_from_db()
    assert str(other.mdn) == NEW and other.first_name == "Bob"
    subscriber.refresh_from_db()
    assert str(subscriber.mdn) == OLD


def test_a_keyword_joiner_becomes_the_subscriber_after_y(loop, subscriber, lists):
    deals, _ = lists
    loop.reply(NEW, "ORDERS")  # the new number joined by keyword: Vibes made a person
    keyword_key = next(p for p in loop.sandbox.control.persons() if p["mdn"] == NEW)["person_key"]
    change = ask(subscriber, [deals])
    loop.run()
    loop.reply(NEW, "Y")
    change.refresh_from_db()
    subscriber.refresh_from_db()
    assert change.status == NumberChangeStatus.COMPLETED
    assert str(subscriber.mdn) == NEW and subscriber.person_key == keyword_key
    persons_with_new = [p for p in loop.sandbox.control.persons() if p["mdn"] == NEW]
    assert [p["person_key"] for p in persons_with_new] == [keyword_key]
    assert persons_with_new[0]["external_person_id"] == subscriber.external_person_id
    assert type(subscriber).objects.filter(mdn=NEW).count() == 1
    assert loop.active_lists(OLD) == set()
    assert loop.active_lists(NEW) == {"1001", "1002"}
    # The list it joined by keyword is the subscriber's now, as in Vibes.
    assert states(subscriber) == {"1001": "subscribed", "1002": "subscribed"}


def test_remove_my_number_ends_every_list_and_removes_it_in_vibes(loop, subscriber, lists):
    key = subscriber.person_key
    ended = services.number_remove(person=subscriber, source=Source.PREFERENCE_CENTER)
    loop.run()
    assert ended == ["Deals & offers"]
    subscriber.refresh_from_db()
    assert subscriber.mdn is None
    assert states(subscriber) == {"1001": SubscriptionState.UNSUBSCRIBED}
    vibes_person = next(p for p in loop.sandbox.control.persons() if p["person_key"] == key)
    assert vibes_person["mdn"] is None
    assert not [
        s
        for s in loop.sandbox.control.subscriptions()
        if s["person_key"] == key and not s.get("opt_out_date")
    ]
