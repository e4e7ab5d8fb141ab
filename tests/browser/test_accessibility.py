"""axe-core, run in the browser on every subscriber page, finds nothing serious."""

import pytest

from crm import services
from crm.choices import OptInStatus, Source
from tests.fixtures.browser import (
    PHONE_VIEWPORT,
    accessibility_violations,
    describe_violations,
    save_screenshot,
)

pytestmark = pytest.mark.browser


def _assert_accessible(page, name: str) -> None:
    violations = accessibility_violations(page)
    if violations:
        save_screenshot(page, f"axe-{name}")
    assert violations == [], describe_violations(violations)


@pytest.fixture
def busy_subscriber(subscriber, catalogue):
    """Every state on one page: subscribed, pending, a refused request, keyword only."""
    services.opt_in_request(
        person=subscriber,
        mdn="+12015550101",
        subscription_lists=[catalogue.arrivals],
        source=Source.PREFERENCE_CENTER,
    )
    [refused] = services.opt_in_request(
        person=subscriber,
        mdn="+12015550101",
        subscription_lists=[catalogue.events],
        source=Source.PREFERENCE_CENTER,
    )
    services.opt_in_request_update(
        opt_in_request=refused,
        status=OptInStatus.FAILED,
        source=Source.VIBES,
        message="This number cannot get texts from this list.",
    )
    return subscriber


@pytest.mark.parametrize("viewport", [None, PHONE_VIEWPORT], ids=["desktop", "320px"])
def test_the_preference_page_is_accessible(
    browser_context_factory, busy_subscriber, page_url, viewport
):
    page = browser_context_factory(viewport=viewport).new_page()
    page.goto(page_url(busy_subscriber))
    _assert_accessible(page, "page")
    page.get_by_label("Shoe size").fill("many")
    page.get_by_label("Email").fill("not an email")
    page.get_by_role("button", name="Save details").click()
    page.wait_for_selector("[data-error-summary]")
    _assert_accessible(page, "page-with-errors")
    page.get_by_role("button", name="Text me to confirm").click()
    page.wait_for_selector("#id_optin-lists_error")
    _assert_accessible(page, "join-with-errors")


def test_the_link_pages_are_accessible(browser_page, live_server, db):
    for path in ("/preferences/", "/preferences/link-sent/", "/preferences/1.x:bad:token/"):
        browser_page.goto(f"{live_server.url}{path}")
        _assert_accessible(browser_page, path.strip("/").replace("/", "-"))
    browser_page.goto(f"{live_server.url}/preferences/")
    browser_page.get_by_role("button", name="Email me my link").click()
    browser_page.wait_for_selector("[data-error-summary]")
    _assert_accessible(browser_page, "link-request-error")


def test_the_check_finds_real_problems(browser_page, live_server, db):
    """The check itself works: a page with an unlabelled field and poor contrast fails it."""
    browser_page.goto(f"{live_server.url}/preferences/")
    browser_page.evaluate(
        "() => { const i = document.createElement('input'); document.body.append(i);"
        " const p = document.createElement('p'); p.textContent = 'faint';"
        " p.setAttribute('class', 'skip-link'); document.body.append(p);"
        " document.getElementById('id_email').labels[0].remove(); }"
    )
    ids = {v["id"] for v in accessibility_violations(browser_page)}
    assert "label" in ids
