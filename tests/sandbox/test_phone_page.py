"""The phone page: numbers, their texts, and reply forms that work without JavaScript."""

from __future__ import annotations

import re

import pytest
import requests

MDN = "+12015550181"
PAGE = "/_sandbox/phone/"


def test_page_lists_numbers_and_their_texts(vibes_sandbox):
    vibes_sandbox.client().add_participant("AC1001", mdn=MDN, external_person_id="ph-1")

    page = requests.get(f"{vibes_sandbox.url}{PAGE}", timeout=5)

    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert f"data-mdn='{MDN}'" in page.text
    assert "Reply Y to confirm you want Deals &amp; offers texts." in page.text
    assert "ph-1" in page.text
    for word in ("Y", "N", "STOP", "DEALS", "ORDERS", "EVENTS"):
        assert f"name='reply' value='{word}'" in page.text
    assert "<script" not in page.text


def test_a_form_post_replies_and_redirects_back(vibes_sandbox):
    vibes_sandbox.client().add_participant("AC1001", mdn=MDN)

    answer = requests.post(
        f"{vibes_sandbox.url}{PAGE}",
        data={"mdn": MDN, "reply": "Y", "text": ""},
        allow_redirects=False,
        timeout=5,
    )

    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(PAGE)
    assert "outcome=confirmed" in answer.headers["Location"]
    assert [record["list_id"] for record in vibes_sandbox.control.subscriptions()] == ["1001"]
    followed = requests.get(f"{vibes_sandbox.url}{answer.headers['Location']}", timeout=5)
    assert "texted Y: confirmed" in followed.text


def test_the_free_text_field_and_a_new_number(vibes_sandbox):
    answer = requests.post(
        f"{vibes_sandbox.url}{PAGE}", data={"mdn": "(201) 555-0182", "text": "events"}, timeout=5
    )

    assert answer.status_code == 200
    assert "+12015550182 texted events: subscribed" in answer.text
    assert vibes_sandbox.control.subscriptions()[0]["mdn"] == "+12015550182"


def test_a_bad_number_is_explained_on_the_page(vibes_sandbox):
    answer = requests.post(f"{vibes_sandbox.url}{PAGE}", data={"mdn": "12", "text": "Y"}, timeout=5)

    assert "is not a valid mobile number" in answer.text
    assert vibes_sandbox.control.phone_messages() == []


def test_texts_are_escaped(vibes_sandbox):
    vibes_sandbox.control.phone_reply(MDN, "<b>hi</b>")

    page = requests.get(f"{vibes_sandbox.url}{PAGE}", timeout=5).text

    assert "<b>hi</b>" not in page
    assert "&lt;b&gt;hi&lt;/b&gt;" in page


@pytest.mark.browser
def test_a_subscriber_confirms_in_a_browser_without_javascript(
    vibes_sandbox, browser_context_factory
):
    vibes_sandbox.client().add_participant("AC1002", mdn=MDN, external_person_id="ph-2")
    page = browser_context_factory(java_script_enabled=False).new_page()

    page.goto(f"{vibes_sandbox.url}{PAGE}")
    section = page.locator(f"section[data-mdn='{MDN}']")
    assert "Reply Y to confirm you want Order updates texts" in section.inner_text()
    section.get_by_role("button", name="Y", exact=True).click()

    page.wait_for_url(re.compile(r".*outcome=confirmed.*"))
    assert (
        "You're subscribed to Order updates"
        in page.locator(f"section[data-mdn='{MDN}']").inner_text()
    )
    section = page.locator(f"section[data-mdn='{MDN}']")
    section.get_by_role("button", name="STOP", exact=True).click()
    page.wait_for_url(re.compile(r".*outcome=stopped.*"))
    assert [r["opt_out_reason"] for r in vibes_sandbox.control.subscriptions()] == ["user_opt_out"]


@pytest.mark.browser
def test_enter_in_the_text_field_sends_the_text_not_y(vibes_sandbox, browser_context_factory):
    vibes_sandbox.client().add_participant("AC1001", mdn=MDN)
    page = browser_context_factory(java_script_enabled=False).new_page()
    page.goto(f"{vibes_sandbox.url}{PAGE}")

    field = page.locator(f"section[data-mdn='{MDN}'] input[name='text']")
    field.fill("EVENTS")
    field.press("Enter")

    page.wait_for_url(re.compile(r".*outcome=subscribed.*"))
    assert [r["list_id"] for r in vibes_sandbox.control.subscriptions()] == ["1003"]
    assert vibes_sandbox.control.participants()[0]["status"] == "PENDING"


def _shown_numbers(html: str) -> list[str]:
    return re.findall(r"data-mdn='([^']+)'", html)


def test_numbers_come_newest_conversation_first_in_pages(vibes_sandbox):
    numbers = [f"+120155501{n:02d}" for n in range(30)]
    for mdn in numbers:
        vibes_sandbox.control.phone_reply(mdn, "hello")
    vibes_sandbox.control.phone_reply(numbers[3], "again")

    first = requests.get(f"{vibes_sandbox.url}{PAGE}", timeout=5).text
    second = requests.get(f"{vibes_sandbox.url}{PAGE}", params={"page": "2"}, timeout=5).text

    newest_first = [numbers[3], *reversed([mdn for mdn in numbers if mdn != numbers[3]])]
    assert _shown_numbers(first) == newest_first[:25]
    assert _shown_numbers(second) == newest_first[25:]
    assert "Numbers 1-25 of 30 (page 1 of 2)" in first
    assert "rel='next' href='/_sandbox/phone/?page=2'" in first
    assert "rel='prev' href='/_sandbox/phone/?page=1'" in second
    assert "rel='next'" not in second
    for bad in ("0", "99", "x"):
        page = requests.get(f"{vibes_sandbox.url}{PAGE}", params={"page": bad}, timeout=5).text
        assert len(_shown_numbers(page)) in {25, 5}


def test_the_search_box_finds_a_number_by_any_part_in_any_format(vibes_sandbox):
    for mdn in ("+12015550181", "+12015550182", "+13125550181"):
        vibes_sandbox.control.phone_reply(mdn, "hello")

    def search(term: str) -> list[str]:
        page = requests.get(f"{vibes_sandbox.url}{PAGE}", params={"q": term}, timeout=5).text
        assert "<form id='search' method='get'" in page
        return _shown_numbers(page)

    assert search("0181") == ["+13125550181", "+12015550181"]
    assert search("(201) 555-0182") == ["+12015550182"]
    assert search("312") == ["+13125550181"]
    assert search("9999") == []
    no_match = requests.get(f"{vibes_sandbox.url}{PAGE}", params={"q": "9999"}, timeout=5)
    assert "No number contains 9999." in no_match.text
    assert len(search("")) == 3


def test_a_search_keeps_its_term_across_pages(vibes_sandbox):
    for n in range(27):
        vibes_sandbox.control.phone_reply(f"+1201555{n:04d}", "hi")
    vibes_sandbox.control.phone_reply("+13125550000", "hi")

    page = requests.get(f"{vibes_sandbox.url}{PAGE}", params={"q": "201555"}, timeout=5).text

    assert "Numbers 1-25 of 27 (page 1 of 2)" in page
    assert "href='/_sandbox/phone/?q=201555&amp;page=2'" in page
    assert "value='201555'" in page
