import re

import pytest
from django.test import override_settings

from crm import services, signals
from crm.choices import ConsentAction, OptInStatus, Source, SubscriptionState
from crm.models import ConsentEvent, OptInRequest, Subscription, SubscriptionList
from prefcenter.preferences.selectors import default_disclosure, disclosure_digest, list_disclosure
from tests.fixtures.builders import make_person
from tests.preferences.catalogue import DEALS_DISCLOSURE

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"


def _join(client, path, lists, mdn, **extra):
    """Post the join form the way the page does, with the digest of each terms shown."""
    data = {"action": "opt_in", "optin-mdn": mdn, "optin-lists": lists}
    for subscription_list in SubscriptionList.objects.filter(shown_in_preference_center=True):
        data[f"disclosure_{subscription_list.list_id}"] = disclosure_digest(
            list_disclosure(subscription_list)
        )
    data.update(extra)
    return client.post(path, data, HTTP_USER_AGENT=BROWSER, **{"REMOTE_ADDR": "203.0.113.9"})


@pytest.fixture
def opt_in_signals():
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    signals.opt_in_requested.connect(receiver)
    yield seen
    signals.opt_in_requested.disconnect(receiver)


def test_joining_with_a_new_number_starts_web_double_opt_in(
    client, newcomer, catalogue, url, opt_in_signals
):
    response = _join(client, url(newcomer), ["deals", "events"], "(201) 555-0142")
    assert response.status_code == 303
    requests = OptInRequest.objects.filter(person=newcomer).order_by("subscription_list__order")
    assert [(r.subscription_list.list_id, str(r.mdn), r.status) for r in requests] == [
        ("deals", "+12015550142", OptInStatus.REQUESTED),
        ("events", "+12015550142", OptInStatus.REQUESTED),
    ]
    assert all(r.source == Source.PREFERENCE_CENTER for r in requests)
    states = dict(
        Subscription.objects.filter(person=newcomer).values_list(
            "subscription_list__list_id", "state"
        )
    )
    assert states == {"deals": SubscriptionState.PENDING, "events": SubscriptionState.PENDING}
    assert [s["source"] for s in opt_in_signals] == [Source.PREFERENCE_CENTER] * 2

    events = {
        e.subscription_list.list_id: e
        for e in ConsentEvent.objects.filter(person=newcomer, action=ConsentAction.OPT_IN_REQUESTED)
    }
    assert set(events) == {"deals", "events"}
    assert events["deals"].disclosure_text == list_disclosure(catalogue.deals)
    assert events["events"].disclosure_text == list_disclosure(catalogue.events)
    # The stored disclosure names the button that was pressed, and holds the list's terms.
    assert "“Text me to confirm”" in events["deals"].disclosure_text
    assert DEALS_DISCLOSURE in events["deals"].disclosure_text
    for event in events.values():
        assert event.source == Source.PREFERENCE_CENTER
        assert event.ip_address == "203.0.113.9"
        assert event.user_agent == BROWSER
        assert str(event.mdn) == "+12015550142"
        assert re.fullmatch(r"request:[0-9a-f]{32}", event.reference)
        assert event.occurred_at is not None
    assert events["deals"].reference == events["events"].reference

    page = client.get(url(newcomer)).content.decode()
    assert (
        "We sent you 2 texts at (201) 555-0142, one for each list: Deals, Store events. "
        "Reply Y to each to join that list." in page
    )
    assert page.count("Pending: check your phone") == 2


def test_a_list_without_its_own_disclosure_shows_and_records_the_default(
    client, newcomer, catalogue, url
):
    services.subscription_list_upsert(list_id="arrivals", source=Source.STAFF, disclosure="")
    page = client.get(url(newcomer)).content.decode()
    assert default_disclosure() in page.replace("&amp;", "&")
    assert _join(client, url(newcomer), ["arrivals"], "2015550142").status_code == 303
    event = ConsentEvent.objects.get(person=newcomer)
    assert event.disclosure_text.endswith(default_disclosure())
    assert "Northwind Outfitters" in event.disclosure_text


def test_a_confirmed_number_still_confirms_every_join_by_text(client, subscriber, catalogue, url):
    response = _join(client, url(subscriber), ["arrivals"], "+1 201 555 0101")
    assert response.status_code == 303
    request = OptInRequest.objects.get(person=subscriber)
    assert request.subscription_list == catalogue.arrivals
    assert str(request.mdn) == "+12015550101"
    assert (
        Subscription.objects.get(person=subscriber, subscription_list=catalogue.arrivals).state
        == SubscriptionState.PENDING
    )


def test_another_number_on_the_join_form_points_to_change_your_number(
    client, subscriber, catalogue, url
):
    """Vibes gives a person one number: a new one is a change of number (its own form,
    tests/preferences/test_number_change.py), never a plain opt-in that Vibes refuses."""
    response = _join(client, url(subscriber), ["deals"], "201-555-0177")
    assert response.status_code == 200
    assert "use “Change your number” above" in response.content.decode()
    assert not OptInRequest.objects.filter(person=subscriber).exists()


def test_asking_again_for_a_pending_list_sends_no_second_text(client, newcomer, url):
    _join(client, url(newcomer), ["deals"], "2015550142")
    response = _join(client, url(newcomer), ["deals"], "2015550142")
    assert response.status_code == 303
    assert OptInRequest.objects.count() == 1
    assert ConsentEvent.objects.count() == 1
    assert "We already texted (201) 555-0142" in client.get(url(newcomer)).content.decode()


def _error(page: str, field: str) -> str:
    block = re.search(rf'id="id_optin-{field}_error">(.*?)</div>', page, re.S)
    assert block, f"no error for {field}"
    return re.sub(r"<[^>]+>", "", block.group(1)).replace("Error: ", "").strip()


@pytest.mark.parametrize(
    ("lists", "mdn", "field", "message"),
    [
        ([], "2015550142", "lists", "Choose at least one list to get texts from."),
        (["deals"], "", "mdn", "Enter your mobile number."),
        (["deals"], "555-0142", "mdn", "555-0142 is not a phone number we can text."),
        (["deals"], "call me maybe", "mdn", "call me maybe is not a phone number we can text."),
        (["deals"], "+1 299 555 0142", "mdn", "+1 299 555 0142 is not a phone number we can"),
        (["deals"], "+44 20 7946 0000", "mdn", "We text mobile numbers in US only."),
        (["club"], "2015550142", "lists", "Choose from the lists shown."),
        (["hidden"], "2015550142", "lists", "Choose from the lists shown."),
    ],
)
def test_bad_opt_in_input_is_shown_next_to_its_field(
    client, newcomer, url, lists, mdn, field, message
):
    response = _join(client, url(newcomer), lists, mdn)
    assert response.status_code == 200
    page = response.content.decode()
    assert _error(page, field).startswith(message)
    if mdn:
        assert f'value="{mdn}"' in page
    assert OptInRequest.objects.count() == 0
    assert ConsentEvent.objects.count() == 0


def test_a_number_of_another_subscriber_is_never_said_to_be_on_file(
    client, newcomer, subscriber, url
):
    response = _join(client, url(newcomer), ["events"], "2015550101")
    assert response.status_code == 303
    page = client.get(response["Location"]).content.decode()
    # The same words as for any number that can get texts; nothing is sent.
    assert "We are sending a text to (201) 555-0101. Reply Y to it to join Store events." in page
    assert "another subscriber" not in page and "belongs" not in page
    assert OptInRequest.objects.count() == 0
    subscriber.refresh_from_db()
    assert str(subscriber.mdn) == "+12015550101"


def test_already_subscribed_at_this_number_is_explained(client, subscriber, url):
    page = _join(client, url(subscriber), ["deals"], "2015550101").content.decode()
    assert _error(page, "lists") == "You already get texts from these lists at this number."
    assert OptInRequest.objects.count() == 0


def test_terms_that_changed_after_the_page_was_shown_must_be_read_again(
    client, newcomer, catalogue, url
):
    shown = disclosure_digest(list_disclosure(SubscriptionList.objects.get(list_id="deals")))
    services.subscription_list_upsert(
        list_id="deals", source=Source.STAFF, disclosure=DEALS_DISCLOSURE + " Now daily."
    )
    page = _join(
        client, url(newcomer), ["deals"], "2015550142", disclosure_deals=shown
    ).content.decode()
    assert _error(page, "lists").startswith("The terms for Deals changed.")
    assert "Now daily." in page
    assert OptInRequest.objects.count() == 0


def test_a_post_without_the_disclosure_shown_is_refused(client, newcomer, url):
    response = _join(client, url(newcomer), ["deals"], "2015550142", disclosure_deals="")
    assert "The terms for Deals changed." in response.content.decode()
    assert OptInRequest.objects.count() == 0


def test_the_client_address_comes_through_trusted_proxies_only(client, newcomer, url):
    with override_settings(PREFCENTER_TRUSTED_PROXIES=["10.0.0.0/8"]):
        client.post(
            url(newcomer),
            {
                "action": "opt_in",
                "optin-mdn": "2015550142",
                "optin-lists": ["deals"],
                "disclosure_deals": disclosure_digest(
                    list_disclosure(SubscriptionList.objects.get(list_id="deals"))
                ),
            },
            REMOTE_ADDR="10.1.2.3",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7, 10.9.9.9",
        )
        other = make_person(first_name="Spoofer")
        client.post(
            url(other),
            {
                "action": "opt_in",
                "optin-mdn": "2015550143",
                "optin-lists": ["deals"],
                "disclosure_deals": disclosure_digest(
                    list_disclosure(SubscriptionList.objects.get(list_id="deals"))
                ),
            },
            REMOTE_ADDR="203.0.113.50",
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
    assert ConsentEvent.objects.get(person=newcomer).ip_address == "198.51.100.7"
    assert ConsentEvent.objects.get(person=other).ip_address == "203.0.113.50"


@pytest.mark.parametrize(
    ("countries", "mdn", "message"),
    [
        ("US", "+44 20 7946 0000", "We text mobile numbers in US only. Enter one like"),
        ("US,GB", "+44 20 7946 0000", "+442079460000 is not a mobile number"),
    ],
)
def test_a_number_that_cannot_get_texts_is_refused_before_vibes_is_asked(
    client, newcomer, url, countries, mdn, message
):
    with override_settings(PREFCENTER_TEXTED_COUNTRIES=countries):
        response = _join(client, url(newcomer), ["deals"], mdn)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not OptInRequest.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_a_mobile_number_of_another_texted_country_is_accepted(client, newcomer, url):
    with override_settings(PREFCENTER_TEXTED_COUNTRIES="US,GB"):
        assert _join(client, url(newcomer), ["deals"], "+44 7400 123456").status_code == 303
    assert str(OptInRequest.objects.get().mdn) == "+447400123456"
