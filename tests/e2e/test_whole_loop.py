"""A subscriber, their phone and a staff member go around the whole loop in a real browser.

The subscriber opens their link, adds a mobile number and joins a list; the worker asks
the sandbox (Vibes) for a web opt-in; the sandbox texts the phone; the phone replies Y;
the sandbox calls the site back; the worker applies it; the page and the admin show it.
Then STOP, and then an edited custom field that must reach the sandbox's person.
Every wait for another process is a bounded poll; screenshots of each step are saved in
``test-artifacts/e2e/``.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from crm import services
from crm.choices import ConsentAction, Source, SubscriptionState
from crm.models import ConsentEvent, Subscription, SubscriptionList
from prefcenter.preferences.tokens import preference_path
from tests.e2e.processes import E2E_ARTIFACTS, eventually

pytestmark = pytest.mark.browser

MDN = "+12015550177"
LIST_ID = "1001"
EXTERNAL_ID = "e2e-rosa"
ADMIN_PASSWORD = "loop-admin-password-7"


def screenshot(page, name: str) -> None:
    E2E_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(E2E_ARTIFACTS / f"{name}.png"), full_page=True)


def reload_until(page, locator, pattern: str, *, what: str, loop) -> None:
    """Reload ``page`` until ``locator`` shows text matching ``pattern`` (at most 30 s)."""

    def shows() -> bool:
        loop.assert_running()
        page.reload()
        return locator.count() > 0 and re.search(pattern, locator.first.inner_text()) is not None

    eventually(shows, what=what, interval=0.5, diagnostics=loop.logs)


def admin_rows(page, loop, path: str):
    page.goto(f"{loop.site_url}{path}")
    return page.locator("#result_list tbody tr")


def test_the_whole_loop(whole_loop, browser_context_factory):
    loop = whole_loop
    lists = SubscriptionList.objects.get(list_id=LIST_ID)
    person = services.person_create(
        external_person_id=EXTERNAL_ID,
        first_name="Rosa",
        last_name="Diaz",
        email="rosa@example.com",
        source=Source.STAFF,
    )
    eventually(
        lambda: any(p.get("external_person_id") == EXTERNAL_ID for p in loop.control.persons()),
        what="the new person to reach the sandbox",
        diagnostics=loop.logs,
    )
    get_user_model().objects.create_superuser("staff", "staff@example.com", ADMIN_PASSWORD)

    subscriber = browser_context_factory().new_page()
    phone = browser_context_factory().new_page()
    staff = browser_context_factory().new_page()

    # 1. The subscriber opens the link, adds a mobile number and joins a list.
    subscriber.goto(f"{loop.site_url}{preference_path(person)}")
    expect(subscriber.get_by_role("heading", name="Your preferences", level=1)).to_be_visible()
    deals = subscriber.locator(f"#list-{LIST_ID}")
    deals.get_by_role("link", name=f"Join {lists.name}").click()
    join = subscriber.locator("#join")
    expect(join.get_by_label(lists.name)).to_be_checked()
    join.get_by_label("Mobile number").fill("(201) 555-0177")
    join.get_by_role("button", name="Text me to confirm").click()
    expect(subscriber.get_by_role("status")).to_contain_text("We are sending a text")
    expect(deals.locator(".badge")).to_have_text("Pending: check your phone")
    screenshot(subscriber, "01-subscriber-asked-to-join")

    # 2. The sandbox phone shows the opt-in text.
    number = phone.locator(f"section[data-mdn='{MDN}']")
    phone.goto(loop.phone_url)
    reload_until(
        phone, number, r"Reply Y to confirm", what="the opt-in text on the phone", loop=loop
    )
    expect(number).to_contain_text(lists.name)
    screenshot(phone, "02-phone-got-the-opt-in-text")

    # 3. The phone replies Y: the page says subscribed, the admin shows the SMS consent.
    number.get_by_role("button", name="Y", exact=True).click()
    expect(phone.get_by_role("status")).to_contain_text("texted Y")
    screenshot(phone, "03-phone-replied-y")
    reload_until(
        subscriber,
        deals.locator(".badge"),
        r"^Subscribed$",
        what="the page to show the list as subscribed",
        loop=loop,
    )
    expect(subscriber.locator("[data-testid=confirmed-mdn]")).to_contain_text("201")
    screenshot(subscriber, "04-subscriber-subscribed")

    staff.goto(f"{loop.site_url}/admin/login/")
    staff.get_by_label("Username").fill("staff")
    staff.get_by_label("Password").fill(ADMIN_PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    expect(staff.get_by_role("heading", name="Site administration")).to_be_visible()
    consent_rows = admin_rows(staff, loop, f"/admin/crm/consentevent/?q={EXTERNAL_ID}")
    expect(consent_rows.filter(has_text="Opt-in requested")).to_contain_text("Preference center")
    opted_in = consent_rows.filter(has_text="Opted in").filter(has_text="SMS via Vibes")
    expect(opted_in.first).to_contain_text(lists.name)
    expect(opted_in.first).to_contain_text("callback:")
    screenshot(staff, "05-admin-consent-from-sms")
    consents = ConsentEvent.objects.filter(person=person, action=ConsentAction.OPTED_IN)
    assert {(c.source, str(c.mdn)) for c in consents} == {(Source.VIBES, MDN)}

    # 4. The phone replies STOP: unsubscribed in the page and in the admin.
    phone.goto(loop.phone_url)
    number.get_by_role("button", name="STOP", exact=True).click()
    expect(phone.get_by_role("status")).to_contain_text("texted STOP")
    screenshot(phone, "06-phone-replied-stop")
    reload_until(
        subscriber,
        deals.locator(".badge"),
        r"^Not subscribed$",
        what="the page to show the list as not subscribed",
        loop=loop,
    )
    screenshot(subscriber, "07-subscriber-unsubscribed")
    subscription_row = admin_rows(staff, loop, f"/admin/crm/subscription/?q={EXTERNAL_ID}")
    expect(subscription_row).to_have_count(1)
    expect(subscription_row).to_contain_text("Not subscribed")
    expect(subscription_row).to_contain_text("Subscriber opted out")
    opted_out = admin_rows(staff, loop, f"/admin/crm/consentevent/?q={EXTERNAL_ID}").filter(
        has_text="Opted out"
    )
    expect(opted_out.first).to_contain_text("SMS via Vibes")
    expect(opted_out.first).to_contain_text(lists.name)
    screenshot(staff, "08-admin-opt-out-from-sms")
    subscription = Subscription.objects.get(person=person, subscription_list=lists)
    assert subscription.state == SubscriptionState.UNSUBSCRIBED

    # 5. A custom field edited in the page reaches the sandbox's person.
    subscriber.get_by_label("ZIP code").fill("98101")
    subscriber.get_by_role("button", name="Save details").click()
    expect(subscriber.get_by_role("status")).to_contain_text("ZIP code")
    screenshot(subscriber, "09-subscriber-edited-zip-code")

    def sandbox_zip_code() -> bool:
        loop.assert_running()
        for record in loop.control.persons():
            if record.get("external_person_id") == EXTERNAL_ID:
                return record.get("custom_fields", {}).get("zip_code") == "98101"
        return False

    eventually(sandbox_zip_code, what="the ZIP code to reach the sandbox", diagnostics=loop.logs)
