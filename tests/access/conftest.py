"""A person with a history in every table an access export reads, and a stranger whose
data must never appear in it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone

from crm import services
from crm.choices import OptOutReason, Source, SubscriptionState
from crm.models import Person, SubscriptionList
from prefcenter.webhooks.models import WebhookMessage
from tests.fixtures.builders import make_list, make_person
from tests.fixtures.callbacks import callback_body, deliver
from vibes_integration.callbacks.models import CallbackEvent
from vibes_integration.sync.models import OutboundCall

DISCLOSURE = "Msg&data rates may apply. Up to 4 msgs/mo. Reply STOP to cancel, HELP for help."
BROWSER = "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36"
SECRET_HEADER = "Basic dmliZXM6c2VjcmV0LXBhc3N3b3Jk"


@dataclass
class History:
    alice: Person
    stranger: Person
    deals: SubscriptionList
    news: SubscriptionList
    callback: CallbackEvent


def staff(username: str, *perms: str) -> User:
    user = User.objects.create_user(username, password="x", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.fixture
def history(db, client, open_callbacks) -> History:
    deals = make_list(list_id="1001", name="Deals", disclosure=DISCLOSURE)
    news = make_list(list_id="1002", name="News")
    alice = make_person(
        external_person_id="crm-alice-01",
        first_name="Alice",
        last_name="Archer",
        email="alice@example.com",
        mdn="+12015550111",
        custom_fields={},
    )
    stranger = make_person(
        external_person_id="crm-stranger-02",
        first_name="Stella",
        last_name="Stranger",
        email="stella@example.com",
        mdn="+12015550199",
    )
    joined = timezone.now() - datetime.timedelta(days=30)
    services.subscription_change(
        person=alice,
        subscription_list=news,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.PREFERENCE_CENTER,
        event_date=joined,
        opt_in_date=joined,
        consent=services.ConsentContext(
            occurred_at=joined,
            ip_address="203.0.113.7",
            user_agent=BROWSER,
            disclosure_text="News texts: up to 2 msgs/wk. Msg&data rates may apply.",
            reference="request:abc",
        ),
    )
    left = joined + datetime.timedelta(days=10)
    services.subscription_change(
        person=alice,
        subscription_list=news,
        state=SubscriptionState.UNSUBSCRIBED,
        source=Source.PREFERENCE_CENTER,
        event_date=left,
        opt_out_date=left,
        opt_out_reason=OptOutReason.USER_OPT_OUT,
        consent=services.ConsentContext(occurred_at=left, reference="request:def"),
    )
    services.subscription_change(
        person=stranger,
        subscription_list=news,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.STAFF,
        consent=services.ConsentContext(ip_address="198.51.100.9", user_agent="Stranger-UA"),
    )
    # Vibes tells us Alice joined Deals by keyword (headers carry the callback credentials).
    body = callback_body("subscription_added", event_id="evt-alice-deals-1")
    body["subscription"]["person"] = {"id": "PK-ALICE-01", "external_id": "crm-alice-01"}
    callback = deliver(client, body, HTTP_AUTHORIZATION=SECRET_HEADER)
    alice.refresh_from_db()
    OutboundCall.objects.create(person=alice, action="update_person", http_status=200, ok=True)
    OutboundCall.objects.create(person=stranger, action="update_person", http_status=500, ok=False)
    for person in (alice, stranger):
        WebhookMessage.objects.create(
            message_id=f"msg_{person.pk}",
            event_type="person.changed",
            payload={"type": "person.changed", "data": {"person": {"id": person.pk}}},
        )
    return History(alice=alice, stranger=stranger, deals=deals, news=news, callback=callback)
