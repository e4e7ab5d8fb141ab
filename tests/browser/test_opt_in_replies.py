"""Joining several lists, and the replies Y and N, in Chromium against the whole loop: the
site, the task worker, the sweep and the Vibes sandbox with its phone.

The subscriber's page is never reloaded after joining: the lists change by themselves
(the page polls its status endpoint) and the live region says what changed.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from crm import services
from crm.choices import ConsentAction, Source
from crm.models import ConsentEvent
from prefcenter.preferences.tokens import preference_path
from tests.e2e.conftest import whole_loop  # noqa: F401  (the fixture, shared)
from tests.e2e.processes import eventually

pytestmark = pytest.mark.browser

LIVE_WAIT_MS = 45_000


def _person(loop, external_id: str):
    person = services.person_create(
        external_person_id=external_id, first_name="Rosa", source=Source.STAFF
    )
    eventually(
        lambda: any(p.get("external_person_id") == external_id for p in loop.control.persons()),
        what="the new person to reach the sandbox",
        diagnostics=loop.logs,
    )
    return person


def _join(page, loop, person, names: list[str], number: str) -> None:
    page.goto(f"{loop.site_url}{preference_path(person)}")
    join = page.locator("#join")
    for name in names:
        join.get_by_label(name).check()
    join.get_by_label("Mobile number").fill(number)
    join.get_by_role("button", name="Text me to confirm").click()


def _texts_on_phone(phone, loop, mdn: str, count: int):
    number = phone.locator(f"section[data-mdn='{mdn}']")

    def arrived() -> bool:
        loop.assert_running()
        phone.goto(loop.phone_url)
        if number.count() == 0:
            return False
        return len(re.findall(r"Reply Y to confirm", number.first.inner_text())) >= count

    eventually(arrived, what=f"{count} opt-in texts on the phone", diagnostics=loop.logs)
    return number


def _reply(phone, number, answer: str) -> None:
    number.get_by_role("button", name=answer, exact=True).click()
    expect(phone.get_by_role("status")).to_contain_text(f"texted {answer}")


def test_two_lists_two_texts_two_ys_and_the_page_updates_itself(
    whole_loop,  # noqa: F811
    browser_context_factory,
):
    loop = whole_loop
    person = _person(loop, "e2e-multi")
    page = browser_context_factory().new_page()
    phone = browser_context_factory().new_page()

    _join(page, loop, person, ["Deals & offers", "Store events"], "(201) 555-0166")
    status = page.locator("[data-flash]")
    expect(status).to_contain_text("We sent you 2 texts at (201) 555-0166")
    expect(status).to_contain_text("Reply Y to each")
    deals, events = page.locator("#list-1001"), page.locator("#list-1003")
    for row in (deals, events):
        expect(row.locator(".badge")).to_have_text("Pending: check your phone")
    live = page.locator("[data-live-status]")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_have_text("")
    # Marks this document: a reload would drop it.
    page.evaluate("document.body.dataset.sameDocument = 'yes'")

    number = _texts_on_phone(phone, loop, "+12015550166", 2)
    _reply(phone, number, "Y")
    phone.goto(loop.phone_url)
    _reply(phone, phone.locator("section[data-mdn='+12015550166']"), "Y")

    for row in (deals, events):
        expect(row.locator(".badge")).to_have_text("Subscribed", timeout=LIVE_WAIT_MS)
    expect(live).to_contain_text("Subscribed")
    expect(page.locator("body")).to_have_attribute("data-same-document", "yes")

    opted_in = ConsentEvent.objects.filter(person=person, action=ConsentAction.OPTED_IN)
    by_list = {line.subscription_list.list_id: line for line in opted_in}
    # One line per opt-in, whatever number of callbacks reported it.
    assert sorted(by_list) == ["1001", "1003"] and opted_in.count() == 2
    for line in by_list.values():
        assert "“Text me to confirm”" in line.disclosure_text
        assert line.vibes_event_ids


def test_an_n_reply_says_you_said_no(whole_loop, browser_context_factory):  # noqa: F811
    loop = whole_loop
    person = _person(loop, "e2e-says-no")
    page = browser_context_factory().new_page()
    phone = browser_context_factory().new_page()

    _join(page, loop, person, ["Order updates"], "(201) 555-0167")
    orders = page.locator("#list-1002")
    expect(orders.locator(".badge")).to_have_text("Pending: check your phone")

    number = _texts_on_phone(phone, loop, "+12015550167", 1)
    _reply(phone, number, "N")

    expect(orders.locator(".badge")).to_have_text("You said no", timeout=LIVE_WAIT_MS)
    expect(orders).to_contain_text("You said no to Order updates")
    expect(orders).not_to_contain_text("Reply Y")
    expect(page.locator("[data-live-status]")).to_contain_text("Order updates: You said no")
    page.reload()
    expect(orders.locator(".badge")).to_have_text("You said no")
    assert ConsentEvent.objects.filter(person=person, action=ConsentAction.OPT_IN_REJECTED).exists()
    assert not ConsentEvent.objects.filter(person=person, action=ConsentAction.OPTED_IN).exists()
