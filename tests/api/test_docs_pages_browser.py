"""Staff read the API's documentation in a real browser: Swagger UI and Redoc render the
document, and the browser fetches nothing from any other site."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-staff-password"


@pytest.fixture
def signed_in_page(browser_page, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_user_model().objects.create_user("docs", password=PASSWORD, is_staff=True)
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "docs")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


class Watch:
    """Requests to other sites, split into those the page's policy blocked and the rest
    (which the browser tried to fetch), and console errors."""

    def __init__(self, page, origin: str) -> None:
        self.origin = origin
        self.tried: list[str] = []
        self.blocked: list[str] = []
        self.errors: list[str] = []
        page.on("request", self._request)
        page.on("requestfailed", self._failed)
        page.on("console", self._console)

    def _elsewhere(self, url: str) -> bool:
        return not url.startswith((self.origin, "data:", "blob:"))

    def _request(self, request) -> None:
        if self._elsewhere(request.url):
            self.tried.append(request.url)

    def _failed(self, request) -> None:
        # Chromium reports a request its content security policy refused as "csp".
        if self._elsewhere(request.url) and (request.failure or "").lower() in {
            "csp",
            "net::err_blocked_by_csp",
        }:
            self.tried.remove(request.url)
            self.blocked.append(request.url)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)


def test_swagger_ui_shows_every_operation_from_this_site_only(signed_in_page, live_server):
    page = signed_in_page
    watch = Watch(page, live_server.url)
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/persons/external/" in path for path in paths)
    assert any("/api/v1/consent-events/export.csv" in path for path in paths)
    assert watch.tried == [] and watch.blocked == []
    assert not [e for e in watch.errors if "Content Security Policy" in e], watch.errors


def test_redoc_renders_the_document_from_this_site_only(signed_in_page, live_server):
    page = signed_in_page
    watch = Watch(page, live_server.url)
    page.goto(f"{live_server.url}/api/redoc/")
    page.locator("h2", has_text="persons_upsert").wait_for(timeout=20000)
    page.wait_for_load_state("networkidle")
    assert watch.tried == []
    # Redoc's bundle shows its maker's logo from their CDN; the policy refuses it.
    assert all("cdn.redoc.ly" in url for url in watch.blocked), watch.blocked
