""" "Stop all texts" asks first, in Chromium: a dialog with JavaScript, a page step without."""

import re

import pytest
from playwright.sync_api import expect

from crm import services
from crm.choices import Source, SubscriptionState
from crm.models import Subscription, SubscriptionList
from tests.fixtures.browser import accessibility_violations, describe_violations, save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def on_two_lists(subscriber, catalogue):
    """Ada on Deals (shown on the page) and on a list the page does not show."""
    services.subscription_change(
        person=subscriber,
        subscription_list=SubscriptionList.objects.get(list_id="hidden"),
        state=SubscriptionState.SUBSCRIBED,
        source=Source.VIBES,
    )
    return subscriber


def _active(person) -> set[str]:
    return set(
        Subscription.objects.filter(person=person)
        .exclude(state=SubscriptionState.UNSUBSCRIBED)
        .values_list("subscription_list__list_id", flat=True)
    )


def _expect_the_question(region) -> None:
    expect(region.get_by_role("heading", name="Stop all texts?")).to_be_visible()
    expect(region.get_by_role("list", name="You will leave:").get_by_role("listitem")).to_have_text(
        ["Deals", "Staff only"]
    )
    expect(region.get_by_test_id("stop-number")).to_have_text("+1•••••0101")


def test_with_javascript_a_dialog_asks_and_the_keyboard_works(browser_page, on_two_lists, page_url):
    page = browser_page
    address = page_url(on_two_lists)
    page.goto(address)
    stop = page.get_by_role("button", name="Stop all texts")
    expect(stop).to_have_attribute("aria-haspopup", "dialog")

    stop.click()

    dialog = page.get_by_role("dialog", name="Stop all texts?")
    expect(dialog).to_be_visible()
    _expect_the_question(dialog)
    # The safe choice has the focus.
    expect(dialog.get_by_role("link", name="No, keep my texts")).to_be_focused()
    assert page.url == address  # no request: the dialog is the page's own
    violations = accessibility_violations(page)
    assert not violations, describe_violations(violations)
    save_screenshot(page, "stop-all-dialog")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(stop).to_be_focused()
    assert _active(on_two_lists) == {"deals", "hidden"}

    page.keyboard.press("Enter")  # the focused button opens it again
    expect(dialog).to_be_visible()
    page.keyboard.press("Enter")  # on "No, keep my texts"
    expect(dialog).to_be_hidden()
    expect(stop).to_be_focused()
    assert _active(on_two_lists) == {"deals", "hidden"}

    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Yes, stop all texts")).to_be_focused()
    page.keyboard.press("Enter")

    status = page.get_by_role("status")
    expect(status).to_contain_text("Done: you will get no more texts from")
    expect(status).to_contain_text("You left: Deals, Staff only.")
    expect(status).to_be_focused()
    expect(page.get_by_role("button", name="Stop all texts")).to_have_count(0)
    assert _active(on_two_lists) == set()


def test_without_javascript_a_page_step_asks(browser_context_factory, on_two_lists, page_url):
    page = browser_context_factory(java_script_enabled=False).new_page()
    page.goto(page_url(on_two_lists))
    page.get_by_role("button", name="Stop all texts").click()

    expect(page).to_have_url(re.compile(r"\?stop=confirm#stop$"))
    step = page.locator("#stop")
    _expect_the_question(step)
    save_screenshot(page, "stop-all-step-no-js")
    assert _active(on_two_lists) == {"deals", "hidden"}

    step.get_by_role("link", name="No, keep my texts").click()
    expect(page.get_by_role("heading", name="Stop all texts?")).to_have_count(0)
    expect(page.get_by_role("button", name="Stop all texts")).to_be_visible()
    assert _active(on_two_lists) == {"deals", "hidden"}

    page.get_by_role("button", name="Stop all texts").click()
    page.locator("#stop").get_by_role("button", name="Yes, stop all texts").click()

    expect(page.get_by_role("status")).to_contain_text("You left: Deals, Staff only.")
    assert _active(on_two_lists) == set()
