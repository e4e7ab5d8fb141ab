"""The status endpoint the page's script polls: same token, same facts as the page."""

import re

from crm import services
from crm.choices import OptInStatus, Source
from prefcenter.preferences.tokens import make_token


def _status(client, person):
    return client.get(f"/preferences/{make_token(person)}/status/")


def _lists(response):
    return {item["id"]: item for item in response.json()["lists"]}


def test_a_waiting_list_reports_its_wait_and_then_its_answer(client, newcomer, catalogue, url):
    [request] = services.opt_in_request(
        person=newcomer,
        mdn="+12015550142",
        subscription_lists=[catalogue.events],
        source=Source.PREFERENCE_CENTER,
    )
    page = client.get(url(newcomer)).content.decode()
    # The page names the endpoint and until when to poll; the live region is there, empty.
    assert re.search(r'data-status-url="/preferences/[^"]+/status/"', page)
    assert "data-poll-until=" in page
    assert re.search(r'aria-live="polite" data-live-status></p>', page)

    response = _status(client, newcomer)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    events = _lists(response)["events"]
    assert events["status"] == "pending"
    assert events["note"] == "We texted (201) 555-0142. Reply Y to that text to join."
    assert response.json()["poll_until"] is not None

    services.opt_in_request_update(
        opt_in_request=request, status=OptInStatus.CONFIRMED, source=Source.VIBES
    )
    after = _status(client, newcomer)
    events = _lists(after)["events"]
    assert (events["status"], events["badge"], events["note"]) == ("subscribed", "Subscribed", "")
    assert after.json()["poll_until"] is None
    # Nothing waits any more: the page no longer asks the script to poll.
    assert "data-status-url" not in client.get(url(newcomer)).content.decode()


def test_the_answer_no_reads_as_the_page_says_it(client, newcomer, catalogue):
    [request] = services.opt_in_request(
        person=newcomer,
        mdn="+12015550142",
        subscription_lists=[catalogue.events],
        source=Source.PREFERENCE_CENTER,
    )
    services.opt_in_request_update(
        opt_in_request=request, status=OptInStatus.REJECTED, source=Source.VIBES
    )
    events = _lists(_status(client, newcomer))["events"]
    assert events["status"] == "said_no"
    assert events["badge"] == "You said no"
    assert events["note"].startswith("You said no to Store events")


def test_a_bad_or_expired_token_tells_nothing(client, newcomer):
    response = client.get("/preferences/not-a-token/status/")
    assert response.status_code == 404
    assert response.json() == {"error": "invalid"}
    assert "Grace" not in response.content.decode()


def test_the_endpoint_only_reads(client, newcomer):
    assert client.post(f"/preferences/{make_token(newcomer)}/status/").status_code == 405
