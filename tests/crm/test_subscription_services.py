"""Subscription state changes, the consent they record, and out-of-order events."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from crm import services
from crm.choices import ConsentAction, OptInStatus, OptOutReason, Source, SubscriptionState
from crm.models import ConsentEvent, OptInRequest, Subscription
from tests.fixtures.builders import make_list, make_person

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC)


def at(minutes: int) -> datetime.datetime:
    return T0 + datetime.timedelta(minutes=minutes)


@pytest.fixture
def member(db):
    return make_person(mdn="+12015550100")


def subscribe(person, subscription_list, **kwargs):
    kwargs.setdefault("source", Source.VIBES)
    return services.subscription_change(
        person=person,
        subscription_list=subscription_list,
        state=SubscriptionState.SUBSCRIBED,
        **kwargs,
    )


def test_subscribing_records_the_opt_in_and_announces_it(member, subscription_list, signal_log):
    consent = services.ConsentContext(ip_address="198.51.100.7", reference="callback:e1")
    change = subscribe(member, subscription_list, event_date=at(0), consent=consent)
    assert change.changed
    subscription = Subscription.objects.get()
    assert subscription.state == SubscriptionState.SUBSCRIBED
    assert subscription.opt_in_date == at(0)
    assert subscription.source == Source.VIBES
    event = ConsentEvent.objects.get()
    assert event.action == ConsentAction.OPTED_IN
    assert event.occurred_at == at(0)  # the event's date when the consent gives none
    assert event.ip_address == "198.51.100.7"
    assert str(event.mdn) == "+12015550100"
    [call] = signal_log.of("subscription_changed")
    assert call["source"] == Source.VIBES
    assert call["previous_state"] == SubscriptionState.UNSUBSCRIBED
    assert call["consent_event"] == event
    assert signal_log.of("consent_recorded")[0]["consent_event"] == event


def test_unsubscribing_records_date_and_reason(member, subscription_list):
    subscribe(member, subscription_list, event_date=at(0))
    services.subscription_change(
        person=member,
        subscription_list=subscription_list,
        state=SubscriptionState.UNSUBSCRIBED,
        source=Source.VIBES,
        event_date=at(5),
        opt_out_reason=OptOutReason.KEYWORD_OPT_OUT,
    )
    subscription = Subscription.objects.get()
    assert subscription.state == SubscriptionState.UNSUBSCRIBED
    assert subscription.opt_out_date == at(5)
    assert subscription.opt_out_reason == OptOutReason.KEYWORD_OPT_OUT
    last = ConsentEvent.objects.order_by("-id").first()
    assert last.action == ConsentAction.OPTED_OUT
    assert last.opt_out_reason == OptOutReason.KEYWORD_OPT_OUT


def test_the_same_state_again_changes_nothing(member, subscription_list, signal_log):
    subscribe(member, subscription_list, event_date=at(0))
    signal_log.calls.clear()
    change = subscribe(member, subscription_list, event_date=at(1))
    assert not change.changed
    assert ConsentEvent.objects.count() == 1
    assert signal_log.calls == []


def test_an_older_event_than_the_last_applied_is_stale(member, subscription_list, signal_log):
    """Vibes does not guarantee order: a removal can overtake the addition before it."""
    services.subscription_change(
        person=member,
        subscription_list=subscription_list,
        state=SubscriptionState.UNSUBSCRIBED,
        source=Source.VIBES,
        event_date=at(10),
    )
    change = subscribe(member, subscription_list, event_date=at(5))
    assert change.stale and not change.changed
    assert Subscription.objects.get().state == SubscriptionState.UNSUBSCRIBED
    assert not ConsentEvent.objects.exists()
    assert signal_log.of("subscription_changed") == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"state": "maybe"}, "state"),
        ({"source": "fax"}, "source"),
        ({"opt_out_reason": "bored"}, "opt_out_reason"),
        ({"event_date": datetime.datetime(2025, 3, 1, 12)}, "event_date"),  # no time zone
        ({"event_date": "2025-03-01"}, "event_date"),
        ({"opt_in_date": datetime.datetime(2025, 3, 1, 12)}, "opt_in_date"),
        ({"opt_out_date": datetime.datetime(2025, 3, 1, 12)}, "opt_out_date"),
        (
            {"consent": services.ConsentContext(occurred_at=datetime.datetime(2025, 3, 1))},
            "occurred_at",
        ),
        ({"consent": {"ip_address": "1.2.3.4"}}, "consent"),
        ({"consent": services.ConsentContext(ip_address="not an address")}, "ip_address"),
        ({"mdn": "123"}, "mdn"),
    ],
)
def test_subscription_change_bad_input_writes_nothing(
    arguments, field, member, subscription_list, signal_log
):
    values = {
        "person": member,
        "subscription_list": subscription_list,
        "state": SubscriptionState.SUBSCRIBED,
        "source": Source.STAFF,
        **arguments,
    }
    with pytest.raises(ValidationError) as caught:
        services.subscription_change(**values)
    assert field in caught.value.message_dict
    assert not Subscription.objects.exists()
    assert not ConsentEvent.objects.exists()
    assert signal_log.calls == []


def test_leaving_withdraws_an_open_web_opt_in(member, subscription_list):
    [request] = services.opt_in_request(
        person=member,
        mdn="+12015550100",
        subscription_lists=[subscription_list],
        source=Source.PREFERENCE_CENTER,
    )
    services.subscription_leave(
        person=member, subscription_list=subscription_list, source=Source.PREFERENCE_CENTER
    )
    request.refresh_from_db()
    assert request.status == OptInStatus.EXPIRED
    assert Subscription.objects.get().state == SubscriptionState.UNSUBSCRIBED


def test_stop_all_leaves_every_list(member):
    lists = [make_list(), make_list(), make_list()]
    subscribe(member, lists[0])
    subscribe(member, lists[1])
    changes = services.person_stop_all(
        person=member,
        source=Source.PREFERENCE_CENTER,
        consent=services.ConsentContext(reference="request:1"),
    )
    assert len(changes) == 2
    assert set(Subscription.objects.values_list("state", flat=True)) == {
        SubscriptionState.UNSUBSCRIBED
    }
    outs = ConsentEvent.objects.filter(action=ConsentAction.OPTED_OUT)
    assert {e.reference for e in outs} == {"request:1"}


def test_consent_record_appends_without_changing_subscriptions(
    member, subscription_list, signal_log
):
    event = services.consent_record(
        person=member,
        subscription_list=subscription_list,
        action=ConsentAction.OPTED_IN,
        source=Source.IMPORT,
        consent=services.ConsentContext(occurred_at=at(0), reference="import:paper-form-17"),
    )
    assert event.pk and event.occurred_at == at(0)
    assert not Subscription.objects.exists()
    assert signal_log.names() == ["consent_recorded"]
    assert signal_log.of("consent_recorded")[0]["source"] == Source.IMPORT


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"action": "waved"}, "action"),
        ({"source": "rumour"}, "source"),
        ({"opt_out_reason": OptOutReason.USER_OPT_OUT}, "opt_out_reason"),  # on an opt-in
        (
            {"action": ConsentAction.OPTED_OUT, "opt_out_reason": "tired"},
            "opt_out_reason",
        ),
        ({"mdn": "not a number"}, "mdn"),
    ],
)
def test_consent_record_bad_input_writes_nothing(arguments, field, member, subscription_list):
    values = {
        "person": member,
        "subscription_list": subscription_list,
        "action": ConsentAction.OPTED_IN,
        "source": Source.STAFF,
        **arguments,
    }
    with pytest.raises(ValidationError) as caught:
        services.consent_record(**values)
    assert field in caught.value.message_dict
    assert not ConsentEvent.objects.exists()


class TestWebOptIn:
    def test_request_marks_pending_and_records_the_disclosure(
        self, member, subscription_list, signal_log
    ):
        [request] = services.opt_in_request(
            person=member,
            mdn="(201) 555-0177",
            subscription_lists=[subscription_list],
            source=Source.PREFERENCE_CENTER,
            consent=services.ConsentContext(ip_address="203.0.113.9", user_agent="Phone"),
        )
        assert request.status == OptInStatus.REQUESTED
        assert str(request.mdn) == "+12015550177"
        assert Subscription.objects.get().state == SubscriptionState.PENDING
        event = ConsentEvent.objects.get()
        assert event.action == ConsentAction.OPT_IN_REQUESTED
        assert event.disclosure_text == subscription_list.disclosure
        assert str(event.mdn) == "+12015550177"
        assert signal_log.of("opt_in_requested")[0]["opt_in_requests"] == [request]

    @pytest.mark.parametrize(
        ("mdn", "lists", "field"),
        [
            ("", "deals", "mdn"),
            ("555", "deals", "mdn"),
            ("+12015550100", "none", "subscription_lists"),
            ("+12015550188", "no-campaign", "subscription_lists"),
            ("+12015550199", "deals", "mdn"),  # another person's number
        ],
    )
    def test_bad_requests_write_nothing(self, mdn, lists, field, member, subscription_list):
        make_person(mdn="+12015550199")
        chosen = {
            "deals": [subscription_list],
            "none": [],
            "no-campaign": [make_list(acquisition_campaign_id="")],
        }[lists]
        with pytest.raises(ValidationError) as caught:
            services.opt_in_request(
                person=member, mdn=mdn, subscription_lists=chosen, source=Source.PREFERENCE_CENTER
            )
        assert field in caught.value.message_dict
        assert not OptInRequest.objects.exists()
        assert not Subscription.objects.exists()
        assert not ConsentEvent.objects.exists()

    def test_a_newer_request_for_another_number_replaces_the_open_one(
        self, member, subscription_list
    ):
        arguments = {
            "person": member,
            "subscription_lists": [subscription_list],
            "source": Source.PREFERENCE_CENTER,
        }
        [first] = services.opt_in_request(mdn="+12015550170", **arguments)
        [again] = services.opt_in_request(mdn="+12015550170", **arguments)
        assert again.pk == first.pk
        [second] = services.opt_in_request(mdn="+12015550171", **arguments)
        first.refresh_from_db()
        assert first.status == OptInStatus.EXPIRED
        assert second.status == OptInStatus.REQUESTED

    def test_rejection_ends_the_pending_subscription_and_is_recorded(
        self, member, subscription_list, signal_log
    ):
        [request] = services.opt_in_request(
            person=member,
            mdn="+12015550170",
            subscription_lists=[subscription_list],
            source=Source.PREFERENCE_CENTER,
        )
        services.opt_in_request_update(
            opt_in_request=request,
            status=OptInStatus.REJECTED,
            source=Source.VIBES,
            event_date=at(3),
        )
        assert Subscription.objects.get().state == SubscriptionState.UNSUBSCRIBED
        rejected = ConsentEvent.objects.get(action=ConsentAction.OPT_IN_REJECTED)
        assert rejected.occurred_at == at(3)
        assert signal_log.of("opt_in_request_changed")[0]["previous_status"] == (
            OptInStatus.REQUESTED
        )

    def test_expiry_ends_the_pending_subscription_without_a_consent_event(
        self, member, subscription_list
    ):
        [request] = services.opt_in_request(
            person=member,
            mdn="+12015550170",
            subscription_lists=[subscription_list],
            source=Source.PREFERENCE_CENTER,
        )
        services.opt_in_request_update(
            opt_in_request=request, status=OptInStatus.EXPIRED, source=Source.VIBES
        )
        assert Subscription.objects.get().state == SubscriptionState.UNSUBSCRIBED
        assert ConsentEvent.objects.count() == 1  # only the request

    def test_a_late_pending_answer_does_not_reopen_a_settled_request(
        self, member, subscription_list
    ):
        [request] = services.opt_in_request(
            person=member,
            mdn="+12015550170",
            subscription_lists=[subscription_list],
            source=Source.PREFERENCE_CENTER,
        )
        services.opt_in_request_update(
            opt_in_request=request, status=OptInStatus.REJECTED, source=Source.VIBES
        )
        services.opt_in_request_update(
            opt_in_request=request, status=OptInStatus.PENDING, source=Source.VIBES
        )
        request.refresh_from_db()
        assert request.status == OptInStatus.REJECTED

    @pytest.mark.parametrize(
        ("arguments", "field"),
        [
            ({"status": "lost"}, "status"),
            ({"source": "?"}, "source"),
            ({"event_date": datetime.datetime(2025, 1, 1)}, "event_date"),
            ({"expire_date": datetime.datetime(2025, 1, 1)}, "expire_date"),
        ],
    )
    def test_bad_updates_change_nothing(self, arguments, field, member, subscription_list):
        [request] = services.opt_in_request(
            person=member,
            mdn="+12015550170",
            subscription_lists=[subscription_list],
            source=Source.PREFERENCE_CENTER,
        )
        values = {
            "opt_in_request": request,
            "status": OptInStatus.CONFIRMED,
            "source": Source.VIBES,
            **arguments,
        }
        with pytest.raises(ValidationError) as caught:
            services.opt_in_request_update(**values)
        assert field in caught.value.message_dict
        request.refresh_from_db()
        assert request.status == OptInStatus.REQUESTED
        assert Subscription.objects.get().state == SubscriptionState.PENDING


class TestListCatalogue:
    def test_upsert_creates_then_updates(self):
        created, was_created = services.subscription_list_upsert(
            list_id="2001", source=Source.VIBES, name="News"
        )
        assert was_created and created.name == "News"
        assert created.shown_in_preference_center is False  # a new Vibes list starts hidden
        updated, was_created = services.subscription_list_upsert(
            list_id="2001", source=Source.VIBES, name="Newsletter"
        )
        assert not was_created and updated.pk == created.pk and updated.name == "Newsletter"

    def test_upsert_without_changes_writes_nothing(self):
        first, _ = services.subscription_list_upsert(
            list_id="2001", source=Source.VIBES, name="News"
        )
        again, _ = services.subscription_list_upsert(
            list_id="2001", source=Source.VIBES, name="News"
        )
        again.refresh_from_db()
        assert again.updated_at == first.updated_at

    @pytest.mark.parametrize(
        ("arguments", "field"),
        [
            ({"list_id": " "}, "list_id"),
            ({"source": "?"}, "source"),
            ({"name": "x" * 201}, "name"),
            ({"order": -1}, "order"),
        ],
    )
    def test_upsert_bad_input(self, arguments, field):
        values = {"list_id": "2001", "source": Source.VIBES, "name": "News", **arguments}
        with pytest.raises(ValidationError) as caught:
            services.subscription_list_upsert(**values)
        assert field in caught.value.message_dict
