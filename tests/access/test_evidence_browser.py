"""The consent evidence page in Chromium: staff open it from the person's page, it reads as a
timeline per list, and printing hides the page's buttons. A screenshot is kept in
test-artifacts/."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.fixtures.browser import save_screenshot

pytestmark = pytest.mark.browser
PASSWORD = "a long staff passphrase 7"


@pytest.fixture
def lawyer(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_superuser(
        username="counsel", email="counsel@example.com", password=PASSWORD
    )


def test_staff_open_the_evidence_from_the_person_page_and_print_it(
    transactional_db, lawyer, history, browser_page, live_server
):
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "counsel")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    page.goto(f"{live_server.url}/admin/crm/person/{history.alice.pk}/change/")
    page.click("[data-testid=consent-evidence-link]")
    page.wait_for_selector("ol.timeline")

    news = page.locator('section.list[data-list-id="1002"]')
    steps = news.locator("ol.timeline > li")
    assert steps.count() == 2
    assert steps.nth(0).get_attribute("data-action") == "opted_in"
    assert "203.0.113.7" in steps.nth(0).inner_text()
    assert "News texts: up to 2 msgs/wk." in steps.nth(0).locator("blockquote").inner_text()
    assert steps.nth(1).get_attribute("data-action") == "opted_out"
    assert "Subscriber opted out" in steps.nth(1).inner_text()
    deals = page.locator('section.list[data-list-id="1001"]')
    assert "evt-alice-deals-1" in deals.inner_text()
    # The timeline is drawn: a dot per step, green for an opt-in, red for an opt-out.
    dot_colours = steps.evaluate_all(
        "items => items.map(i => getComputedStyle(i, '::before').backgroundColor)"
    )
    assert dot_colours[0] != dot_colours[1]
    save_screenshot(page, "access-consent-evidence")

    assert page.locator(".tools").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".tools").is_visible()
    save_screenshot(page, "access-consent-evidence-print")
