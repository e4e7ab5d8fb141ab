"""Which change of the CRM becomes which event, and what the event says.

The events are written in the service's transaction; nothing is sent here (the delivery
tests send them over HTTP).
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm import services as crm
from crm.choices import OptInStatus, OptOutReason, Source, SubscriptionState
from crm.services import ConsentContext, SubscriptionReport
from prefcenter.webhooks import services
from prefcenter.webhooks.choices import DeliveryState, EventType
from prefcenter.webhooks.models import WebhookDelivery, WebhookMessage
from tests.fixtures.builders import make_list, make_person

pytestmark = pytest.mark.django_db

NUMBER = "+12015550123"


@pytest.fixture
def endpoint(db):
    return services.endpoint_create(
        url="https://crm.example.com/hooks", event_types=EventType.values
    ).endpoint


def _events(event_type: str | None = None) -> list[dict]:
    messages = WebhookMessage.objects.order_by("pk")
    if event_type:
        messages = messages.filter(event_type=event_type)
    return [message.payload for message in messages]


def test_nothing_is_written_when_no_endpoint_wants_the_event():
    make_person(mdn=NUMBER)

    assert not WebhookMessage.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_a_new_person_is_announced_with_ids_and_a_masked_number(endpoint):
    person = make_person(external_person_id="crm-1", mdn=NUMBER, first_name="Ada")

    [event] = _events(EventType.PERSON_CHANGED)
    assert event["type"] == "person.changed"
    assert event["data"]["person"] == {
        "id": person.pk,
        "external_person_id": "crm-1",
        "person_key": None,
        "mdn": "+1•••••0123",
    }
    assert event["data"]["created"] is True
    assert event["data"]["source"] == "staff"
    assert "Ada" not in str(event)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.endpoint, delivery.state) == (endpoint, DeliveryState.PENDING)
    assert WebhookMessage.objects.get().message_id.startswith("msg_")


def test_a_change_names_the_changed_fields_not_their_values(endpoint, settings):
    settings.WEBHOOK_FULL_MDN = True
    person = make_person(mdn=NUMBER)

    crm.person_update(person=person, source=Source.PREFERENCE_CENTER, email="ada@example.com")

    event = _events(EventType.PERSON_CHANGED)[-1]
    assert event["data"]["changed_fields"] == ["email"]
    assert event["data"]["created"] is False
    assert event["data"]["person"]["mdn"] == NUMBER
    assert "ada@example.com" not in str(event)


def test_subscribing_then_a_stop_are_announced_with_the_list_reason_and_time(endpoint):
    person = make_person(mdn=NUMBER)
    deals = make_list(list_id="1001", name="Deals")
    stopped_at = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=1)

    crm.subscription_change(
        person=person,
        subscription_list=deals,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )
    crm.subscription_change(
        person=person,
        subscription_list=deals,
        state=SubscriptionState.UNSUBSCRIBED,
        source=Source.VIBES,
        opt_out_date=stopped_at,
        opt_out_reason=OptOutReason.USER_OPT_OUT,
    )

    [subscribed] = _events(EventType.SUBSCRIPTION_SUBSCRIBED)
    [opted_out] = _events(EventType.SUBSCRIPTION_OPTED_OUT)
    assert subscribed["data"]["subscription_list"] == {"list_id": "1001", "name": "Deals"}
    assert subscribed["data"]["opted_in_at"]
    assert opted_out["data"]["reason"] == "user_opt_out"
    assert opted_out["data"]["opted_out_at"] == stopped_at.isoformat().replace("+00:00", "Z")
    assert opted_out["data"]["source"] == "vibes"
    assert opted_out["data"]["person"]["id"] == person.pk


def test_a_batch_of_callback_reports_announces_each_opt_out(endpoint):
    deals = make_list(list_id="1001")
    persons = [make_person(mdn=f"+1201555010{n}") for n in range(3)]
    for person in persons:
        crm.subscription_change(
            person=person,
            subscription_list=deals,
            state=SubscriptionState.SUBSCRIBED,
            source=Source.VIBES,
        )

    crm.subscriptions_report_many(
        reports=[
            SubscriptionReport(
                person=person,
                subscription_list=deals,
                state=SubscriptionState.UNSUBSCRIBED,
                event_date=timezone.now(),
                consent=ConsentContext(),
                opt_out_reason=OptOutReason.KEYWORD_OPT_OUT,
            )
            for person in persons
        ],
        source=Source.VIBES,
    )

    opted_out = _events(EventType.SUBSCRIPTION_OPTED_OUT)
    assert sorted(e["data"]["person"]["id"] for e in opted_out) == sorted(p.pk for p in persons)
    assert {e["data"]["reason"] for e in opted_out} == {"keyword_opt_out"}


def test_web_opt_in_confirmed_and_rejected_are_announced_and_leaving_pending_is_no_opt_out(
    endpoint,
):
    person = make_person()
    deals, news = make_list(list_id="1001"), make_list(list_id="1002")
    [to_deals] = crm.opt_in_request(
        person=person, mdn=NUMBER, subscription_lists=[deals], source=Source.PREFERENCE_CENTER
    )
    [to_news] = crm.opt_in_request(
        person=person, mdn=NUMBER, subscription_lists=[news], source=Source.PREFERENCE_CENTER
    )

    crm.opt_in_request_update(
        opt_in_request=to_deals, status=OptInStatus.CONFIRMED, source=Source.VIBES
    )
    crm.opt_in_request_update(
        opt_in_request=to_news, status=OptInStatus.REJECTED, source=Source.VIBES
    )

    [confirmed] = _events(EventType.OPT_IN_CONFIRMED)
    [rejected] = _events(EventType.OPT_IN_REJECTED)
    assert confirmed["data"]["opt_in_request"] == {"id": to_deals.pk, "status": "confirmed"}
    assert confirmed["data"]["subscription_list"]["list_id"] == "1001"
    assert rejected["data"]["opt_in_request"] == {"id": to_news.pk, "status": "rejected"}
    assert len(_events(EventType.SUBSCRIPTION_SUBSCRIBED)) == 1
    assert _events(EventType.SUBSCRIPTION_OPTED_OUT) == []


def test_an_endpoint_gets_only_the_types_it_chose(endpoint):
    opt_outs_only = services.endpoint_create(
        url="https://warehouse.example.com/in", event_types=[EventType.SUBSCRIPTION_OPTED_OUT]
    ).endpoint
    person = make_person(mdn=NUMBER)
    deals = make_list()
    crm.subscription_change(
        person=person,
        subscription_list=deals,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.STAFF,
    )
    crm.subscription_leave(person=person, subscription_list=deals, source=Source.STAFF)

    received = WebhookDelivery.objects.filter(endpoint=opt_outs_only)
    assert [d.message.event_type for d in received] == [EventType.SUBSCRIPTION_OPTED_OUT]
    everything = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
    assert [d.message.event_type for d in everything] == [
        EventType.PERSON_CHANGED,
        EventType.SUBSCRIPTION_SUBSCRIBED,
        EventType.SUBSCRIPTION_OPTED_OUT,
    ]


def test_a_change_that_is_rolled_back_announces_nothing(endpoint):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_person(mdn=NUMBER)
        raise RuntimeError("the caller's transaction fails after the change")

    assert not WebhookMessage.objects.exists()
    assert not WebhookDelivery.objects.exists()


def _endpoint_reads(queries) -> int:
    return sum('FROM "webhooks_webhookendpoint"' in q["sql"] for q in queries.captured_queries)


def test_the_endpoints_are_read_once_per_transaction_and_again_after_a_rollback(endpoint):
    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(RuntimeError), transaction.atomic():
            make_person()
            raise RuntimeError("rolled back")
        assert _endpoint_reads(queries) == 1

        with transaction.atomic():
            for n in range(3):
                make_person(mdn=f"+1201555020{n}")

    assert _endpoint_reads(queries) == 2
    assert WebhookMessage.objects.count() == 3
