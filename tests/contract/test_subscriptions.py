"""Subscriptions, lists and acquisition campaigns: every answer the client can get, judged by
Vibes' OpenAPI document."""

from __future__ import annotations

import pytest

from vibes_integration.errors import NotFound

MDN = "+12015550221"


@pytest.fixture
def keyword_person(vibes_sandbox) -> dict:
    """A person who joined list 1001 by keyword (no external id), then stopped and joined
    again: one ended and one active subscription record."""
    control = vibes_sandbox.control
    control.phone_reply(MDN, "DEALS")
    control.phone_reply(MDN, "STOP")
    control.phone_reply(MDN, "DEALS")
    control.phone_reply(MDN, "ORDERS")
    return control.persons()[0]


def test_read_subscriptions_by_key_and_by_external_id(vibes_sandbox, contract, keyword_person):
    client = contract.client
    key = keyword_person["person_key"]
    vibes_sandbox.client().update_person(key, {"external_person_id": "s-1"})

    client.list_subscriptions(key)
    client.list_subscriptions(key, active_only=True)
    client.list_subscriptions_by_external_id("s-1")
    for call in (
        lambda: client.list_subscriptions("no-such-key"),
        lambda: client.list_subscriptions_by_external_id(f"vibes-{key}"),
    ):
        with pytest.raises(NotFound):
            call()

    assert contract.check() == {
        ("GET", "/mobiledb/persons/{person_key}/subscriptions", 200),
        ("GET", "/mobiledb/persons/{person_key}/subscriptions", 404),
        ("GET", "/mobiledb/persons/external/{external_person_id}/subscriptions", 200),
        ("GET", "/mobiledb/persons/external/{external_person_id}/subscriptions", 404),
    }


def test_unsubscribe_by_key_and_by_external_id(vibes_sandbox, contract, keyword_person):
    client = contract.client
    key = keyword_person["person_key"]

    assert client.unsubscribe_by_external_id(f"vibes-{key}", "1001") is False
    assert client.unsubscribe(key, "1001") is True
    assert client.unsubscribe(key, "1001") is False
    vibes_sandbox.client().update_person(key, {"external_person_id": "s-2"})
    assert client.unsubscribe_by_external_id("s-2", "1002") is True

    assert contract.check() == {
        ("DELETE", "/mobiledb/persons/{person_key}/subscriptions/{subscription_list_id}", 204),
        ("DELETE", "/mobiledb/persons/{person_key}/subscriptions/{subscription_list_id}", 404),
        (
            "DELETE",
            "/mobiledb/persons/external/{external_person_id}/subscriptions/{subscription_list_id}",
            204,
        ),
        (
            "DELETE",
            "/mobiledb/persons/external/{external_person_id}/subscriptions/{subscription_list_id}",
            404,
        ),
    }


def test_lists_and_campaigns(contract):
    client = contract.client

    client.list_subscription_lists()
    client.get_subscription_list("1001")
    client.list_acquisition_campaigns("1001")
    for call in (
        lambda: client.get_subscription_list("9999"),
        lambda: client.list_acquisition_campaigns("9999"),
    ):
        with pytest.raises(NotFound):
            call()

    assert contract.check() == {
        ("GET", "/mobiledb/subscription_lists/", 200),
        ("GET", "/mobiledb/subscription_lists/{subscription_list_id}", 200),
        ("GET", "/mobiledb/subscription_lists/{subscription_list_id}", 404),
        ("GET", "/mobiledb/subscription_lists/{subscription_list_id}/acquisition_campaigns/", 200),
        ("GET", "/mobiledb/subscription_lists/{subscription_list_id}/acquisition_campaigns/", 404),
    }
