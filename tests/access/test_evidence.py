"""Consent evidence: the story per list in order, on a printable staff page and in the API."""

from __future__ import annotations

import re
import zlib

import pytest
from django.urls import reverse

from tests.access.conftest import BROWSER, staff
from tests.api.conftest import authorized, make_api_key

pytestmark = pytest.mark.django_db


def _page(client, person, **params):
    client.force_login(staff("lawyer", "crm.view_person", "crm.view_consentevent"))
    url = reverse("admin:access_person_evidence", args=[person.pk])
    return client.get(url, params)


def test_the_page_tells_each_lists_story_in_order(client, history):
    response = _page(client, history.alice)
    assert response.status_code == 200
    html = response.content.decode()
    assert "@media print" in html
    news = html[html.index('data-list-id="1002"') :]
    # The web opt-in: time, disclosure shown verbatim, address and user agent; then the opt-out.
    opt_in = news.index('data-action="opted_in"')
    opt_out = news.index('data-action="opted_out"')
    assert opt_in < opt_out
    assert "News texts: up to 2 msgs/wk. Msg&amp;data rates may apply." in news[opt_in:opt_out]
    assert "203.0.113.7" in news[opt_in:opt_out]
    assert BROWSER in news[opt_in:opt_out]
    assert "Subscriber opted out" in news[opt_out:]
    # The keyword join on Deals names the Vibes event that confirmed it.
    deals = html[html.index('data-list-id="1001"') : html.index('data-list-id="1002"')]
    assert "evt-alice-deals-1" in deals
    assert "Stranger-UA" not in html


def test_the_page_can_show_one_list(client, history):
    html = _page(client, history.alice, list="1001").content.decode()
    assert 'data-list-id="1001"' in html
    assert 'data-list-id="1002"' not in html


def test_the_page_needs_the_ledger_permission(client, history):
    client.force_login(staff("viewer", "crm.view_person"))
    url = reverse("admin:access_person_evidence", args=[history.alice.pk])
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_the_api_gives_the_same_story_as_json(history):
    api = authorized(make_api_key(scopes=["consent:read"]))
    url = f"/api/v1/persons/{history.alice.pk}/consent-evidence/"
    response = api.get(url, {"list": "1002"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["person"]["external_person_id"] == "crm-alice-01"
    [news] = data["lists"]
    assert news["list_id"] == "1002"
    actions = [entry["action"] for entry in news["timeline"]]
    assert actions == ["opted_in", "opted_out"]
    first, last = news["timeline"]
    assert first["ip_address"] == "203.0.113.7"
    assert first["user_agent"] == BROWSER
    assert first["disclosure_text"].startswith("News texts")
    assert last["opt_out_reason"] == "user_opt_out"

    everything = api.get(url).json()
    deals = next(found for found in everything["lists"] if found["list_id"] == "1001")
    assert deals["timeline"][0]["vibes_event_id"] == "evt-alice-deals-1"
    assert [event["event_id"] for event in deals["vibes_events"]] == ["evt-alice-deals-1"]


def test_the_api_refuses_other_scopes_and_unknown_lists(history):
    url = f"/api/v1/persons/{history.alice.pk}/consent-evidence/"
    assert authorized(make_api_key(scopes=["persons:read"])).get(url).status_code == 403
    api = authorized(make_api_key(scopes=["consent:read"]))
    missing = api.get(url, {"list": "no-such-list"})
    assert missing.status_code == 404
    assert missing["Content-Type"].startswith("application/problem+json")
    assert api.get("/api/v1/persons/999999/consent-evidence/").status_code == 404


def _pdf_objects(data: bytes) -> bytes:
    """The PDF's objects with their compressed streams inflated."""
    inflated = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        try:
            inflated.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(inflated)


def test_the_evidence_is_also_a_pdf(client, history):
    client.force_login(staff("lawyer", "crm.view_person", "crm.view_consentevent"))
    page = client.get(reverse("admin:access_person_evidence", args=[history.alice.pk]))
    pdf_url = reverse("admin:access_person_evidence_pdf", args=[history.alice.pk])
    assert pdf_url in page.content.decode()
    response = client.get(pdf_url, {"list": "1002"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    objects = _pdf_objects(response.content)
    assert re.search(rb"/Type\s*/Page\b", objects)
    assert b"DejaVu" in objects  # Debian's font, embedded


def test_without_a_renderer_the_pdf_says_why(client, history, monkeypatch):
    from prefcenter.access import admin as access_admin

    monkeypatch.setattr(access_admin, "pdf_unavailable_reason", lambda: "WeasyPrint is missing.")
    client.force_login(staff("lawyer", "crm.view_person", "crm.view_consentevent"))
    page = client.get(reverse("admin:access_person_evidence", args=[history.alice.pk]))
    assert "evidence-pdf-link" not in page.content.decode()
    response = client.get(reverse("admin:access_person_evidence_pdf", args=[history.alice.pk]))
    assert response.status_code == 501
    assert response.content.decode() == "WeasyPrint is missing."
