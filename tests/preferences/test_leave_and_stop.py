import re

import pytest

from crm import services
from crm.choices import ConsentAction, OptInStatus, OptOutReason, Source, SubscriptionState
from crm.models import ConsentEvent, OptInRequest, Subscription, SubscriptionList

BROWSER = "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36"


def _post(client, path, data):
    return client.post(path, data, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.20")


def _state(person, subscription_list) -> str:
    return Subscription.objects.get(person=person, subscription_list=subscription_list).state


def test_leaving_a_list_unsubscribes_and_records_the_opt_out(client, subscriber, catalogue, url):
    response = _post(client, url(subscriber), {"action": "leave", "list": "deals"})
    assert response.status_code == 303
    assert _state(subscriber, catalogue.deals) == SubscriptionState.UNSUBSCRIBED
    event = ConsentEvent.objects.get(person=subscriber, action=ConsentAction.OPTED_OUT)
    assert event.subscription_list == catalogue.deals
    assert event.source == Source.PREFERENCE_CENTER
    assert event.ip_address == "198.51.100.20"
    assert event.user_agent == BROWSER
    assert event.opt_out_reason == OptOutReason.USER_OPT_OUT
    assert event.reference.startswith("request:")
    page = client.get(url(subscriber)).content.decode()
    assert "You left Deals. You will not get its texts any more." in page


def test_leaving_a_pending_list_withdraws_the_opt_in(client, newcomer, catalogue, url):
    services.opt_in_request(
        person=newcomer,
        mdn="+12015550142",
        subscription_lists=[catalogue.events],
        source=Source.PREFERENCE_CENTER,
    )
    response = _post(client, url(newcomer), {"action": "leave", "list": "events"})
    assert response.status_code == 303
    assert OptInRequest.objects.get().status == OptInStatus.EXPIRED
    assert _state(newcomer, catalogue.events) == SubscriptionState.UNSUBSCRIBED
    assert "You cancelled joining Store events." in client.get(url(newcomer)).content.decode()


def test_leaving_a_list_one_is_not_on_changes_nothing(client, subscriber, url):
    for list_id in ("arrivals", "hidden", "nope"):
        response = _post(client, url(subscriber), {"action": "leave", "list": list_id})
        assert response.status_code == 400
        assert "You are not on that list any more." in response.content.decode()
    assert not ConsentEvent.objects.filter(action=ConsentAction.OPTED_OUT).exists()


def test_stop_all_texts_leaves_every_list(client, subscriber, catalogue, url):
    services.opt_in_request(
        person=subscriber,
        mdn="+12015550101",
        subscription_lists=[catalogue.arrivals],
        source=Source.PREFERENCE_CENTER,
    )
    response = _post(client, url(subscriber), {"action": "stop_all", "confirm": "yes"})
    assert response.status_code == 303
    states = set(Subscription.objects.filter(person=subscriber).values_list("state", flat=True))
    assert states == {SubscriptionState.UNSUBSCRIBED}
    assert not OptInRequest.objects.filter(
        status__in=[OptInStatus.REQUESTED, OptInStatus.PENDING]
    ).exists()
    opted_out = ConsentEvent.objects.filter(person=subscriber, action=ConsentAction.OPTED_OUT)
    assert {e.subscription_list.list_id for e in opted_out} == {"deals", "arrivals"}
    assert {e.ip_address for e in opted_out} == {"198.51.100.20"}
    page = client.get(url(subscriber)).content.decode()
    assert "Done: you will get no more texts from Northwind Outfitters." in page
    assert "You left: " in page and "Deals" in page and "New arrivals" in page
    assert 'value="stop_all"' not in page


def test_stop_all_with_nothing_to_stop_says_so(client, newcomer, url):
    response = _post(client, url(newcomer), {"action": "stop_all", "confirm": "yes"})
    assert response.status_code == 303
    assert "You were not on any list." in client.get(url(newcomer)).content.decode()


def _active(person) -> set[str]:
    return set(
        Subscription.objects.filter(person=person)
        .exclude(state=SubscriptionState.UNSUBSCRIBED)
        .values_list("subscription_list__list_id", flat=True)
    )


@pytest.fixture
def on_three_lists(subscriber, catalogue):
    """Ada on Deals and the list the page does not show, and waiting to join New arrivals
    on a second number."""
    services.subscription_change(
        person=subscriber,
        subscription_list=SubscriptionList.objects.get(list_id="hidden"),
        state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )
    services.opt_in_request(
        person=subscriber,
        mdn="+12015550142",
        subscription_lists=[catalogue.arrivals],
        source=Source.PREFERENCE_CENTER,
    )
    return subscriber


def test_the_stop_button_without_javascript_asks_first(client, on_three_lists, url):
    page = client.get(url(on_three_lists)).content.decode()
    # The button asks the page for its confirmation step; it posts nothing.
    assert '<form method="get" action="#stop" data-stop-open>' in page
    assert '<input type="hidden" name="stop" value="confirm">' in page

    response = client.get(url(on_three_lists), {"stop": "confirm"})

    assert response.status_code == 200
    html = response.content.decode()
    step = html[
        html.index("data-stop-confirm") : html.index("</section>", html.index("data-stop-confirm"))
    ]
    assert "Stop all texts?" in step
    assert re.findall(r"<li>([^<]+)</li>", step) == ["Deals", "New arrivals", "Staff only"]
    assert re.findall(r'data-testid="stop-number">([^<]+)<', step) == ["+1•••••0101", "+1•••••0142"]
    assert "+12015550101" not in step and "201-555-0101" not in step
    assert 'name="confirm" value="yes"' in step
    assert "Yes, stop all texts" in step and "No, keep my texts" in step
    assert "<dialog" not in html  # the step is the page itself
    assert _active(on_three_lists) == {"deals", "hidden", "arrivals"}


def test_an_unconfirmed_stop_post_shows_the_step_and_changes_nothing(client, on_three_lists, url):
    response = _post(client, url(on_three_lists), {"action": "stop_all"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "data-stop-confirm" in html and "Stop all texts?" in html
    assert _active(on_three_lists) == {"deals", "hidden", "arrivals"}
    assert not ConsentEvent.objects.filter(action=ConsentAction.OPTED_OUT).exists()


def test_confirming_stops_every_list_the_step_named(client, on_three_lists, url):
    response = _post(client, url(on_three_lists), {"action": "stop_all", "confirm": "yes"})

    assert response.status_code == 303
    assert _active(on_three_lists) == set()
    page = client.get(url(on_three_lists)).content.decode()
    assert "You left: Deals, New arrivals, Staff only." in page
    assert "data-stop-open" not in page and "<dialog" not in page


def test_the_page_carries_the_same_question_for_the_dialog(client, on_three_lists, url):
    html = client.get(url(on_three_lists)).content.decode()
    dialog = html[html.index("<dialog") : html.index("</dialog>")]
    assert 'aria-labelledby="stop-dialog-heading"' in dialog
    assert re.findall(r"<li>([^<]+)</li>", dialog) == ["Deals", "New arrivals", "Staff only"]
    assert 'name="confirm" value="yes"' in dialog


def test_nothing_to_stop_shows_no_step(client, newcomer, url):
    html = client.get(url(newcomer), {"stop": "confirm"}).content.decode()
    assert "Stop all texts?" not in html and "data-stop-confirm" not in html
