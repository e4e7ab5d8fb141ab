"""The preference page in a real browser (Debian's Chromium through Playwright)."""

import re

import pytest
from playwright.sync_api import expect

from crm.choices import ConsentAction, OptInStatus, Source, SubscriptionState
from crm.models import ConsentEvent, OptInRequest, Subscription
from tests.fixtures.browser import PHONE_VIEWPORT, save_screenshot

pytestmark = pytest.mark.browser


def _list_item(page, list_id: str):
    return page.locator(f"#list-{list_id}")


def test_open_a_link_and_edit_details(browser_page, subscriber, page_url):
    page = browser_page
    page.goto(page_url(subscriber))
    expect(page.get_by_role("heading", name="Your preferences", level=1)).to_be_visible()
    expect(page.get_by_label("First name")).to_have_value("Ada")

    page.get_by_label("First name").fill("Augusta Ada")
    page.get_by_label("Shoe size").fill("9.5")
    page.get_by_label("Birthday").fill("1815-12-10")
    page.get_by_role("group", name="Favorite activity").get_by_label("Climbing").check()
    page.get_by_role("group", name="Interests").get_by_label("Trail running").check()
    page.get_by_role("group", name="Also send me the printed catalogue").get_by_label("Yes").check()
    page.get_by_role("button", name="Save details").click()

    expect(page.get_by_role("status")).to_contain_text("Saved. You changed:")
    expect(page.get_by_role("status")).to_contain_text("Shoe size")
    subscriber.refresh_from_db()
    assert subscriber.first_name == "Augusta Ada"
    assert subscriber.custom_fields["shoe_size"] == 9.5
    assert subscriber.custom_fields["birthday"] == "1815-12-10"
    assert subscriber.custom_fields["favorite_activity"] == "climbing"
    assert subscriber.custom_fields["interests"] == ["camping", "running"]
    assert subscriber.custom_fields["newsletter"] is True


def test_join_a_list_with_a_number_shows_pending(browser_page, newcomer, catalogue, page_url):
    page = browser_page
    page.goto(page_url(newcomer))
    _list_item(page, "arrivals").get_by_role("link", name="Join New arrivals").click()
    expect(page).to_have_url(re.compile(r"\?join=arrivals#join$"))
    form = page.locator("#join")
    expect(form.get_by_label("New arrivals")).to_be_checked()
    # The chosen list's terms sit next to the button; the others are not shown.
    expect(form.locator('[data-disclosure-for="arrivals"]')).to_be_visible()
    expect(form.locator('[data-disclosure-for="deals"]')).to_be_hidden()
    form.get_by_label("Deals").check()
    expect(form.locator('[data-disclosure-for="deals"]')).to_be_visible()
    expect(form.locator('[data-disclosure-for="deals"]')).to_contain_text(
        "By joining Deals you agree"
    )
    form.get_by_label("Mobile number").fill("(201) 555-0142")
    form.get_by_role("button", name="Text me to confirm").click()

    expect(page.get_by_role("status")).to_contain_text("We sent you 2 texts at (201) 555-0142")
    expect(page.get_by_role("status")).to_contain_text("Reply Y to each")
    for list_id in ("arrivals", "deals"):
        expect(_list_item(page, list_id)).to_contain_text("Pending: check your phone")
    expect(page.locator(".number-summary")).to_contain_text("Waiting for you to confirm")

    requests = OptInRequest.objects.filter(person=newcomer)
    assert {r.subscription_list.list_id for r in requests} == {"arrivals", "deals"}
    assert {r.status for r in requests} == {OptInStatus.REQUESTED}
    events = ConsentEvent.objects.filter(person=newcomer, action=ConsentAction.OPT_IN_REQUESTED)
    deals_event = events.get(subscription_list=catalogue.deals)
    assert catalogue.deals.disclosure in deals_event.disclosure_text
    assert "“Text me to confirm”" in deals_event.disclosure_text
    assert deals_event.source == Source.PREFERENCE_CENTER
    assert deals_event.ip_address == "127.0.0.1"
    assert "Chrome" in deals_event.user_agent


def test_leave_a_list(browser_page, subscriber, catalogue, page_url):
    page = browser_page
    page.goto(page_url(subscriber))
    deals = _list_item(page, "deals")
    expect(deals).to_contain_text("Subscribed")
    deals.get_by_role("button", name="Leave Deals").click()
    expect(page.get_by_role("status")).to_contain_text("You left Deals.")
    expect(page.get_by_role("status")).to_be_focused()
    expect(_list_item(page, "deals")).to_contain_text("Not subscribed")
    assert (
        Subscription.objects.get(person=subscriber, subscription_list=catalogue.deals).state
        == SubscriptionState.UNSUBSCRIBED
    )


def test_an_invalid_value_is_shown_next_to_its_field(browser_page, subscriber, page_url):
    page = browser_page
    page.goto(page_url(subscriber))
    page.get_by_label("Shoe size").fill("nine and a half")
    page.get_by_label("Email").fill("ada@")
    page.get_by_role("button", name="Save details").click()

    shoe = page.get_by_label("Shoe size")
    expect(shoe).to_have_value("nine and a half")
    expect(shoe).to_have_attribute("aria-invalid", "true")
    expect(shoe).to_have_accessible_description(
        re.compile("Error: Enter a number using digits only")
    )
    field = page.locator(".field", has=shoe)
    expect(field.locator(".field__error")).to_have_text(
        re.compile(r"Enter a number using digits only")
    )
    expect(page.get_by_label("Email")).to_have_accessible_description(
        re.compile("Enter an email address like name@example.com.")
    )
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Please fix these 2 problems:")
    summary.get_by_role("link", name=re.compile("Shoe size")).click()
    expect(shoe).to_be_focused()
    save_screenshot(page, "preferences-error-desktop")
    subscriber.refresh_from_db()
    assert "shoe_size" not in subscriber.custom_fields


def test_keyboard_only(browser_page, newcomer, page_url):
    page = browser_page
    page.goto(page_url(newcomer))
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")

    def focused_label() -> str:
        return page.evaluate(
            "() => { const e = document.activeElement;"
            " return (e.labels && e.labels[0] ? e.labels[0].innerText : e.innerText || '')"
            ".trim(); }"
        )

    for _ in range(40):
        page.keyboard.press("Tab")
        if focused_label().startswith("Store events"):
            break
    else:
        raise AssertionError("Tab never reached the Store events checkbox")
    outline = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
    )
    assert outline[0] != "none" and outline[1] >= 2, outline
    page.keyboard.press("Space")
    expect(page.get_by_label("Store events")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mobile number")).to_be_focused()
    page.keyboard.type("2015550142")
    page.keyboard.press("Enter")
    expect(_list_item(page, "events")).to_contain_text("Pending: check your phone")
    assert OptInRequest.objects.get(person=newcomer).subscription_list.list_id == "events"

    # The leave button of that list is reachable and works with the keyboard too.
    cancel = _list_item(page, "events").get_by_role("button", name="Cancel Store events")
    cancel.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("You cancelled joining Store events.")


def test_works_without_javascript(browser_context_factory, newcomer, catalogue, page_url):
    page = browser_context_factory(java_script_enabled=False).new_page()
    page.goto(page_url(newcomer))
    form = page.locator("#join")
    # Without the script every list's terms are shown next to the button.
    for list_id in ("deals", "arrivals", "events"):
        expect(form.locator(f'[data-disclosure-for="{list_id}"]')).to_be_visible()
    form.get_by_label("Store events").check()
    form.get_by_label("Mobile number").fill("201 555 0142")
    form.get_by_role("button", name="Text me to confirm").click()
    expect(_list_item(page, "events")).to_contain_text("Pending: check your phone")
    stored = ConsentEvent.objects.get(person=newcomer).disclosure_text
    assert catalogue.events.disclosure in stored and "“Text me to confirm”" in stored


def test_ask_for_a_link_by_email(browser_page, live_server, newcomer):
    page = browser_page
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Manage your preferences")).to_be_visible()
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("button", name="Email me my link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("If we know that address")


def test_screenshots_at_320_px_and_desktop(browser_context_factory, subscriber, page_url):
    phone = browser_context_factory(viewport=PHONE_VIEWPORT).new_page()
    desktop = browser_context_factory().new_page()
    for page, name in ((phone, "320"), (desktop, "desktop")):
        page.goto(page_url(subscriber))
        path = save_screenshot(page, f"preferences-{name}")
        assert path.stat().st_size > 10_000
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"the page scrolls sideways at 320 px ({width} px wide)"
    small = phone.evaluate(
        "() => [...document.querySelectorAll('button, .button, input[type=text],"
        " input[type=email], input[type=tel], .choices label, .choice label')]"
        ".filter(e => e.offsetParent !== null)"
        ".filter(e => e.getBoundingClientRect().height < 44)"
        ".map(e => e.outerHTML.slice(0, 80))"
    )
    assert small == [], f"tap targets smaller than 44 px: {small}"
    phone.get_by_label("Shoe size").fill("x")
    phone.get_by_role("button", name="Save details").click()
    expect(phone.locator("[data-error-summary]")).to_be_focused()
    save_screenshot(phone, "preferences-error-320")
    base = page_url(subscriber).split("/preferences/")[0]
    for path, name in (("/preferences/", "link-request"), ("/preferences/1.x:y:z/", "bad-link")):
        for page, size in ((phone, "320"), (desktop, "desktop")):
            page.goto(base + path)
            save_screenshot(page, f"{name}-{size}")
