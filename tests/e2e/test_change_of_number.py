"""Changing a number and removing it, in Chromium, against the processes ``make run``
starts (site, task worker, sweep, the Vibes sandbox and its phone page).

A subscriber with a confirmed number on Deals asks for a new number on the page; only the
new number gets a text (Vibes' confirmation); its Y moves Deals to it and leaves the old
number on nothing; its N, or no answer at all, leaves the old number as it was.
"Remove my number" asks first, then ends every list and removes the number in Vibes.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from crm import services
from crm.choices import ConsentAction, NumberChangeStatus, OptOutReason, Source
from crm.models import ConsentEvent, NumberChange, Person, Subscription, SubscriptionList
from prefcenter.preferences.tokens import preference_path
from tests.e2e.processes import eventually
from tests.e2e.test_whole_loop import reload_until, screenshot
from vibes_integration.sandbox.config import DEMO_CONFIG_PATH

pytestmark = pytest.mark.browser

OLD = "+12015550171"
NEW = "+12015550172"
LIST_ID = "1001"
BUTTON = "Text my new number to confirm"


def active_lists(loop, *, mdn: str | None = None, person_key: str | None = None) -> set[str]:
    keys = {person_key} if person_key else set()
    if mdn:
        keys |= {p["person_key"] for p in loop.control.persons() if p.get("mdn") == mdn}
    return {
        s["list_id"]
        for s in loop.control.subscriptions()
        if s["person_key"] in keys and not s.get("opt_out_date")
    }


def texts_to(loop, mdn: str) -> list[str]:
    return [m["text"] for m in loop.control.phone_messages(mdn=mdn) if m["direction"] == "out"]


def confirmed_subscriber(loop, *, ttl_seconds: int | None = None) -> Person:
    """A subscriber whose number OLD confirmed Deals through the sandbox."""
    if ttl_seconds is not None:
        config = json.loads(DEMO_CONFIG_PATH.read_text(encoding="utf-8"))
        config["pending_ttl_seconds"] = ttl_seconds
        loop.control.seed(config)
        call_command("vibes_callbacks", "register", stdout=io.StringIO())
    person = services.person_create(
        external_person_id="e2e-change-number",
        first_name="Ada",
        email="ada@example.com",
        source=Source.STAFF,
    )
    deals = SubscriptionList.objects.get(list_id=LIST_ID)
    services.opt_in_request(
        person=person, mdn=OLD, subscription_lists=[deals], source=Source.PREFERENCE_CENTER
    )
    eventually(lambda: texts_to(loop, OLD), what="the opt-in text to OLD", diagnostics=loop.logs)
    loop.control.phone_reply(OLD, "Y")
    eventually(
        lambda: (
            Subscription.objects.filter(person=person, state="subscribed").exists()
            and Person.objects.get(pk=person.pk).person_key
        ),
        what="OLD to be subscribed in the CRM",
        diagnostics=loop.logs,
    )
    person.refresh_from_db()
    return person


def ask_for_new_number(loop, browser_context_factory, person):
    page = browser_context_factory().new_page()
    page.goto(f"{loop.site_url}{preference_path(person)}")
    section = page.locator("#number")
    expect(section.get_by_label("Deals & offers")).to_be_checked()  # pre-selected
    section.get_by_label("New mobile number").fill("(201) 555-0172")
    section.get_by_role("button", name=BUTTON).click()
    expect(page.get_by_role("status").first).to_contain_text("we sent it a text")
    expect(page.locator("[data-testid=number-waiting]")).to_contain_text("(201) 555-0172")
    eventually(lambda: texts_to(loop, NEW), what="Vibes' text to NEW", diagnostics=loop.logs)
    return page


def test_change_of_number_with_y(whole_loop, browser_context_factory):
    loop = whole_loop
    person = confirmed_subscriber(loop)
    old_key = person.person_key
    texts_to_old = len(texts_to(loop, OLD))
    page = ask_for_new_number(loop, browser_context_factory, person)
    screenshot(page, "change-01-asked")

    # The phone page shows the confirmation text on the new number only.
    phone = browser_context_factory().new_page()
    phone.goto(loop.phone_url)
    number = phone.locator(f"section[data-mdn='{NEW}']")
    reload_until(phone, number, r"Reply Y", what="the confirmation text on NEW", loop=loop)
    assert len(texts_to(loop, NEW)) == 1
    assert len(texts_to(loop, OLD)) == texts_to_old
    assert active_lists(loop, mdn=NEW) == set()  # nothing subscribed before Y
    number.get_by_role("button", name="Y", exact=True).click()
    expect(phone.get_by_role("status")).to_contain_text("texted Y")

    reload_until(
        page,
        page.locator("[data-testid=number-current]"),
        r"\(201\) 555-0172",
        what="the page to show the new number",
        loop=loop,
    )
    expect(page.locator(f"#list-{LIST_ID} .badge")).to_have_text("Subscribed")
    screenshot(page, "change-02-confirmed")
    eventually(
        lambda: (
            active_lists(loop, person_key=old_key) == set()
            and active_lists(loop, mdn=NEW) == {LIST_ID}
        ),
        what="the sandbox to show the old number on nothing, the new one on Deals",
        diagnostics=loop.logs,
    )
    ledger = ConsentEvent.objects.filter(person=person, subscription_list__list_id=LIST_ID)
    [opted_out] = ledger.filter(action=ConsentAction.OPTED_OUT)
    assert (str(opted_out.mdn), opted_out.opt_out_reason) == (OLD, OptOutReason.NUMBER_CHANGED)
    # One Y, reported twice by Vibes, is one opted-in line; what was shown is on the request.
    [opted_in] = ledger.filter(action=ConsentAction.OPTED_IN, mdn=NEW)
    assert len(opted_in.vibes_event_ids) == 2
    [asked] = ledger.filter(action=ConsentAction.OPT_IN_REQUESTED, mdn=NEW)
    assert BUTTON in asked.disclosure_text
    # The opted-in line keeps the disclosure whose button was pressed, like the request.
    assert BUTTON in opted_in.disclosure_text


@pytest.mark.parametrize("answer", ["N", "lapse"])
def test_change_of_number_with_n_or_lapse_keeps_the_old_number(
    whole_loop, browser_context_factory, answer
):
    loop = whole_loop
    person = confirmed_subscriber(loop, ttl_seconds=8 if answer == "lapse" else None)
    page = ask_for_new_number(loop, browser_context_factory, person)
    if answer == "N":
        loop.control.phone_reply(NEW, "N")
    else:
        loop.control.expire_pending(mdn=NEW)  # Vibes sends nothing; the sweep sees it lapse
    eventually(
        lambda: (
            NumberChange.objects.get(person=person).status
            in {NumberChangeStatus.REJECTED, NumberChangeStatus.EXPIRED}
        ),
        what="the change to end",
        timeout=30,
        diagnostics=loop.logs,
    )
    page.reload()
    expect(page.locator("[data-testid=number-waiting]")).to_have_count(0)
    expect(page.locator("[data-testid=number-current]")).to_contain_text("(201) 555-0171")
    expect(page.locator(f"#list-{LIST_ID} .badge")).to_have_text("Subscribed")
    screenshot(page, f"change-{answer}-kept")
    assert active_lists(loop, mdn=OLD) == {LIST_ID}
    assert active_lists(loop, mdn=NEW) == set()
    assert not ConsentEvent.objects.filter(person=person, action=ConsentAction.OPTED_OUT).exists()


def test_remove_my_number_asks_first_then_ends_everything(whole_loop, browser_context_factory):
    loop = whole_loop
    person = confirmed_subscriber(loop)
    key = person.person_key
    page = browser_context_factory().new_page()
    page.goto(f"{loop.site_url}{preference_path(person)}")
    page.locator("#number").get_by_role("button", name="Remove my number").click()
    step = page.locator("[data-testid=remove-confirm]")
    expect(step).to_contain_text("Deals & offers")
    expect(step).to_contain_text(re.compile(r"\+1•+0171"))
    step.get_by_role("button", name="Yes, remove my number").click()
    expect(page.get_by_role("status").first).to_contain_text("is removed")
    expect(page.locator("#number")).to_have_count(0)
    screenshot(page, "remove-number-done")
    eventually(
        lambda: (
            next(p for p in loop.control.persons() if p["person_key"] == key)["mdn"] is None
            and active_lists(loop, person_key=key) == set()
        ),
        what="the sandbox to hold no number and no list for the person",
        diagnostics=loop.logs,
    )
