"""The whole path: a subscriber texts STOP from the sandbox's phone, Vibes (the sandbox)
calls the site over HTTP, the callback is applied, and the brand's registered endpoint
receives a signed ``subscription.opted_out`` event with the reason."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from crm.choices import SubscriptionState
from crm.models import Person, Subscription
from prefcenter.webhooks import signing
from prefcenter.webhooks.choices import EventType
from tests.fixtures.builders import make_list
from tests.fixtures.callbacks import process_callbacks
from tests.webhooks.conftest import deliver_until, register, webhook_requests

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("open_callbacks")]

SUBSCRIBER = "+12015550177"


@pytest.fixture
def sandbox_calls_the_site(vibes_sandbox, live_server, settings):
    # Vibes delivers a list's subscription callbacks only through that list's registration,
    # and `register` registers the lists the CRM knows.
    for list_id in ("1001", "1002", "1003"):
        make_list(list_id=list_id, acquisition_campaign_id=f"AC{list_id}")
    settings.VIBES_CALLBACK_BASE_URL = f"{live_server.url}/vibes/callbacks/"
    call_command("vibes_callbacks", "register", stdout=io.StringIO())
    return vibes_sandbox


def _text(sandbox, message: str) -> None:
    sandbox.control.phone_reply(SUBSCRIBER, message)
    sandbox.control.wait_for_deliveries(timeout=20)
    process_callbacks()


def test_stop_from_the_phone_reaches_the_brands_endpoint_as_a_signed_opt_out(
    sandbox_calls_the_site, callback_receiver
):
    created = register(callback_receiver, EventType.SUBSCRIPTION_OPTED_OUT)
    _text(sandbox_calls_the_site, "DEALS")
    person = Person.objects.get(mdn=SUBSCRIBER)
    subscription = Subscription.objects.get(person=person, subscription_list__list_id="1001")
    assert subscription.state == SubscriptionState.SUBSCRIBED

    _text(sandbox_calls_the_site, "STOP")
    deliver_until(lambda: len(webhook_requests(callback_receiver)) >= 1)

    [request] = webhook_requests(callback_receiver)
    headers = request["headers"]
    expected = signing.signature(
        secret=created.secret,
        message_id=headers["webhook-id"],
        timestamp=int(headers["webhook-timestamp"]),
        body=request["raw"],
    )
    assert headers["webhook-signature"] == expected
    event = request["body"]
    assert event["type"] == "subscription.opted_out"
    assert event["data"]["reason"] == "user_opt_out"
    assert event["data"]["source"] == "vibes"
    assert event["data"]["subscription_list"]["list_id"] == "1001"
    assert event["data"]["person"]["id"] == person.pk
    assert event["data"]["person"]["external_person_id"] == person.external_person_id
    assert event["data"]["person"]["mdn"] == "+1•••••0177"
    subscription.refresh_from_db()
    assert event["data"]["opted_out_at"] == subscription.opt_out_date.isoformat().replace(
        "+00:00", "Z"
    )
