"""Subscriptions, lists and campaigns through the client, against the sandbox."""

from __future__ import annotations

import pytest

from vibes_integration.errors import NotFound

MDN = "+12015550121"


@pytest.fixture
def client(vibes_sandbox):
    return vibes_sandbox.client()


@pytest.fixture
def subscribed(vibes_sandbox, client):
    """A person with an external id, subscribed to list 1001 by texting DEALS."""
    person = client.add_person({"external_person_id": "sub-1", "mobile_phone": {"mdn": MDN}})
    vibes_sandbox.control.phone_reply(MDN, "DEALS")
    return person.person


def test_list_subscriptions(client, subscribed):
    by_key = client.list_subscriptions(subscribed["person_key"])
    by_external_id = client.list_subscriptions_by_external_id("sub-1")

    assert by_key == by_external_id
    assert len(by_key) == 1
    record = by_key[0]
    assert record["subscription_list"]["id"] == "1001"
    assert record["person"]["url"].endswith(f"/mobiledb/persons/{subscribed['person_key']}")
    assert record["person"]["id"] != subscribed["person_key"]
    assert record["opt_in_date"].endswith("Z")
    assert "opt_out_date" not in record


def test_list_subscriptions_keeps_history_and_can_show_only_active(client, subscribed):
    client.unsubscribe(subscribed["person_key"], "1001")

    history = client.list_subscriptions(subscribed["person_key"])
    active = client.list_subscriptions(subscribed["person_key"], active_only=True)

    assert [record["opt_out_reason"] for record in history] == ["api_opt_out"]
    assert active == []


def test_list_subscriptions_of_an_unknown_person(client):
    with pytest.raises(NotFound):
        client.list_subscriptions("nobody")
    with pytest.raises(NotFound):
        client.list_subscriptions_by_external_id("nobody")


def test_unsubscribe_by_person_key(vibes_sandbox, client, subscribed):
    assert client.unsubscribe(subscribed["person_key"], "1001") is True

    assert vibes_sandbox.control.calls()[-1]["status"] == 204
    assert client.list_subscriptions(subscribed["person_key"], active_only=True) == []


def test_unsubscribe_by_external_id(client, subscribed):
    assert client.unsubscribe_by_external_id("sub-1", "1001") is True
    assert client.list_subscriptions_by_external_id("sub-1", active_only=True) == []


def test_unsubscribe_when_already_not_subscribed_answers_false(vibes_sandbox, client, subscribed):
    assert client.unsubscribe(subscribed["person_key"], "1002") is False
    assert vibes_sandbox.control.calls()[-1]["status"] == 404
    assert client.unsubscribe_by_external_id("nobody", "1001") is False


def test_list_subscription_lists(client):
    lists = client.list_subscription_lists()

    assert [entry["id"] for entry in lists] == ["1001", "1002", "1003"]
    assert lists[0] == {
        "id": "1001",
        "name": "Deals & offers",
        "url": "/companies/demo/mobiledb/subscription_lists/1001",
        "subscribers_url": "/companies/demo/mobiledb/subscription_lists/1001/subscribers",
        "acquisition_campaigns_url": (
            "/companies/demo/mobiledb/subscription_lists/1001/acquisition_campaigns"
        ),
    }


def test_get_subscription_list(client):
    assert client.get_subscription_list("1002")["name"] == "Order updates"
    with pytest.raises(NotFound):
        client.get_subscription_list("9999")


def test_list_acquisition_campaigns(client):
    campaigns = client.list_acquisition_campaigns("1001")

    assert len(campaigns) == 1
    campaign = campaigns[0]
    assert campaign["acquisition_id"] == "AC1001"
    assert campaign["description"] == "Web opt-in: Deals & offers"
    assert campaign["acquisition_campaign"]["keywords"] == ["DEALS"]
    assert campaign["status"] == "active"
    with pytest.raises(NotFound):
        client.list_acquisition_campaigns("9999")
