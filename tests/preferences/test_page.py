import datetime
import re

import pytest
from django.test import Client

from crm import services
from crm.choices import OptInStatus, Source
from crm.models import OptInRequest
from prefcenter.middleware import CONTENT_SECURITY_POLICY


def _item(page: str, list_id: str) -> str:
    row = rf'<li class="list-item[^"]*" id="list-{list_id}"[^>]*>(.*?)</li>'
    match = re.search(row, page, re.S)
    assert match, f"list {list_id} is not on the page"
    return match.group(1)


def _input(page: str, name: str) -> str:
    match = re.search(rf'<(?:input|select)[^>]*name="{name}"[^>]*>', page)
    assert match, f"no control named {name}"
    return match.group(0)


def test_page_shows_details_lists_and_number(client, subscriber, url):
    response = client.get(url(subscriber))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Hi Ada" in page
    assert 'value="Lovelace"' in page
    assert 'value="ada@example.com"' in page
    assert "(201) 555-0101" in page
    for name, description in [
        ("Deals", "Weekly offers and early access to sales."),
        ("New arrivals", "Be the first to hear about new gear."),
        ("Store events", "Workshops and trail days near you."),
        ("Trail club", "Members-only texts."),
    ]:
        assert name in page
        assert description in page
    assert "Staff only" not in page
    assert "Subscribed" in _item(page, "deals")
    assert "Not subscribed" in _item(page, "arrivals")
    assert "?join=arrivals#join" in _item(page, "arrivals")
    assert 'name="action" value="leave"' in _item(page, "deals")
    assert "Text <strong>TRAIL</strong> to join." in _item(page, "club")


def test_each_custom_field_gets_the_control_of_its_type(client, subscriber, url):
    page = client.get(url(subscriber)).content.decode()
    nickname = _input(page, "details-cf_nickname")
    assert 'type="text"' in nickname and 'value="Countess"' in nickname
    shoe = _input(page, "details-cf_shoe_size")
    assert 'type="text"' in shoe and 'inputmode="decimal"' in shoe
    assert 'type="date"' in _input(page, "details-cf_birthday")
    yes_no = re.findall(r'<input type="radio" name="details-cf_newsletter" value="([^"]*)"', page)
    assert yes_no == ["yes", "no", ""]
    activities = re.findall(
        r'<input type="radio" name="details-cf_favorite_activity" value="([^"]*)"', page
    )
    assert activities == ["hiking", "climbing", "paddling", ""]
    interests = re.findall(r'<input type="checkbox" name="details-cf_interests"[^>]*>', page)
    assert len(interests) == 3
    checked = [tag for tag in interests if "checked" in tag]
    assert len(checked) == 1 and 'value="camping"' in checked[0]
    loyalty = _input(page, "details-cf_loyalty_tier")
    assert "disabled" in loyalty and 'value="Gold"' in loyalty
    assert "Internal score" not in page
    assert "internal_score" not in page


def test_groups_have_fieldsets_and_legends(client, subscriber, url):
    page = client.get(url(subscriber)).content.decode()
    legends = re.findall(r"<legend[^>]*>(.*?)</legend>", page, re.S)
    text = [re.sub(r"<[^>]+>", "", legend).strip() for legend in legends]
    assert "Name and email" in text
    assert "About you" in text
    assert "Lists to join" in text
    assert any(t.startswith("Interests") for t in text)
    assert any(t.startswith("Favorite activity") for t in text)
    for label_for in re.findall(r'<label[^>]*for="([^"]+)"', page):
        assert f'id="{label_for}"' in page


def test_a_single_choice_with_many_options_is_a_select(client, subscriber, url):
    from tests.fixtures.builders import make_custom_field

    make_custom_field(
        key="state",
        label="State",
        field_type="choice",
        options=[{"key": f"s{i}", "label": f"State {i}"} for i in range(8)],
    )
    page = client.get(url(subscriber)).content.decode()
    assert '<select name="details-cf_state"' in page
    assert page.count('<option value="s') == 8


def test_pending_list_says_check_your_phone(client, newcomer, catalogue, url):
    services.opt_in_request(
        person=newcomer,
        mdn="+12015550142",
        subscription_lists=[catalogue.arrivals],
        source=Source.PREFERENCE_CENTER,
    )
    page = client.get(url(newcomer)).content.decode()
    item = _item(page, "arrivals")
    assert "Pending: check your phone" in item
    assert "We texted (201) 555-0142" in item
    assert "Cancel" in item
    assert "Waiting for you to confirm" in page
    assert "You have not confirmed a mobile number with us yet." in page
    assert 'value="(201) 555-0142"' in _input(page, "optin-mdn")


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (OptInStatus.FAILED, "This number cannot get texts: it looks like a landline."),
        (OptInStatus.EXPIRED, "You did not reply in time. Ask again whenever you like."),
    ],
)
def test_a_settled_request_shows_its_plain_message(
    client, newcomer, catalogue, url, status, message
):
    [request] = services.opt_in_request(
        person=newcomer,
        mdn="+12015550142",
        subscription_lists=[catalogue.events],
        source=Source.PREFERENCE_CENTER,
    )
    services.opt_in_request_update(
        opt_in_request=request, status=status, source=Source.VIBES, message=message
    )
    item = _item(client.get(url(newcomer)).content.decode(), "events")
    assert "Not subscribed" in item
    assert message in item


def test_after_no_the_list_says_you_said_no_and_asks_nothing(client, newcomer, catalogue, url):
    [request] = services.opt_in_request(
        person=newcomer,
        mdn="+12015550142",
        subscription_lists=[catalogue.events],
        source=Source.PREFERENCE_CENTER,
    )
    services.opt_in_request_update(
        opt_in_request=request, status=OptInStatus.REJECTED, source=Source.VIBES
    )
    item = _item(client.get(url(newcomer)).content.decode(), "events")
    assert "You said no to Store events" in item
    assert "Not subscribed" not in item
    assert "We texted" not in item and "Reply" not in item


def test_a_newer_attempt_clears_the_older_failure(client, newcomer, catalogue, url):
    [failed] = services.opt_in_request(
        person=newcomer,
        mdn="+12015550142",
        subscription_lists=[catalogue.events],
        source=Source.PREFERENCE_CENTER,
    )
    services.opt_in_request_update(
        opt_in_request=failed,
        status=OptInStatus.FAILED,
        source=Source.VIBES,
        message="This number cannot get texts.",
    )
    assert "This number cannot get texts." in client.get(url(newcomer)).content.decode()
    OptInRequest.objects.filter(pk=failed.pk).update(
        requested_at=failed.requested_at - datetime.timedelta(hours=1)
    )
    services.opt_in_request(
        person=newcomer,
        mdn="+12015550143",
        subscription_lists=[catalogue.deals],
        source=Source.PREFERENCE_CENTER,
    )
    assert "This number cannot get texts." not in client.get(url(newcomer)).content.decode()


def test_a_number_nobody_confirmed_is_not_called_yours(client, newcomer, url):
    services.person_update(person=newcomer, source=Source.STAFF, mdn="+12015550188")
    page = client.get(url(newcomer)).content.decode()
    assert "Your mobile number" not in page
    assert "(201) 555-0188</strong> is waiting for confirmation" in page


def test_a_request_withdrawn_by_leaving_needs_no_note(client, newcomer, catalogue, url):
    services.opt_in_request(
        person=newcomer,
        mdn="+12015550142",
        subscription_lists=[catalogue.events],
        source=Source.PREFERENCE_CENTER,
    )
    services.subscription_leave(
        person=newcomer, subscription_list=catalogue.events, source=Source.PREFERENCE_CENTER
    )
    assert OptInRequest.objects.get().status == OptInStatus.EXPIRED
    item = _item(client.get(url(newcomer)).content.decode(), "events")
    assert "Not subscribed" in item
    assert "Withdrawn" not in item


def test_join_link_preselects_the_list(client, newcomer, url):
    page = client.get(url(newcomer) + "?join=events").content.decode()
    boxes = re.findall(r'<input type="checkbox" name="optin-lists"[^>]*>', page)
    checked = [box for box in boxes if "checked" in box]
    assert len(checked) == 1 and 'value="events"' in checked[0]
    # The keyword-only list cannot be joined from the web, so it has no checkbox.
    assert not [box for box in boxes if 'value="club"' in box]


def test_the_join_form_shows_each_lists_disclosure_and_the_button(client, newcomer, url):
    page = client.get(url(newcomer)).content.decode()
    disclosures = page[
        page.index('class="disclosures"') : page.index("Text me to confirm</button>")
    ]
    assert "By joining Deals you agree to get up to 4 recurring automated" in disclosures
    assert "Up to 4 msgs/mo for list" in disclosures
    assert 'name="disclosure_deals"' in disclosures


def test_stop_all_is_offered_only_to_someone_on_a_list(client, newcomer, subscriber, url):
    assert 'value="stop_all"' in client.get(url(subscriber)).content.decode()
    assert 'value="stop_all"' not in client.get(url(newcomer)).content.decode()


def test_security_headers(client, subscriber, url):
    response = client.get(url(subscriber))
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    page = response.content.decode()
    assert '<meta name="referrer" content="same-origin">' in page
    assert "<script>" not in page and "style=" not in page


def test_posts_without_csrf_token_are_refused(subscriber, url):
    client = Client(enforce_csrf_checks=True)
    page = client.get(url(subscriber)).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page
    response = client.post(url(subscriber), {"action": "stop_all"})
    assert response.status_code == 403
    assert subscriber.subscriptions.get().state == "subscribed"


def test_an_unknown_action_changes_nothing(client, subscriber, url):
    response = client.post(url(subscriber), {"action": "delete_everything"})
    assert response.status_code == 400
    assert "That button did not work" in response.content.decode()
    assert subscriber.subscriptions.get().state == "subscribed"


def test_only_get_and_post_are_allowed(client, subscriber, url):
    assert client.put(url(subscriber)).status_code == 405
    assert client.delete(url(subscriber)).status_code == 405


def test_a_pending_request_shows_what_vibes_said(client, newcomer, catalogue, url):
    [request] = services.opt_in_request(
        person=newcomer,
        mdn="+12015550142",
        subscription_lists=[catalogue.arrivals],
        source=Source.PREFERENCE_CENTER,
    )
    item = _item(client.get(url(newcomer)).content.decode(), "arrivals")
    assert "We will text" not in item
    services.opt_in_request_update(
        opt_in_request=request,
        status=OptInStatus.PENDING,
        source=Source.VIBES,
        message="We texted you. Reply Y within 24 hours to confirm.",
    )
    item = _item(client.get(url(newcomer)).content.decode(), "arrivals")
    assert "Pending: check your phone" in item
    assert "Reply Y within 24 hours to confirm." in item
