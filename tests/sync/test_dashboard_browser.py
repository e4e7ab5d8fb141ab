"""The sync dashboard in a real browser: every figure fits its card and the chart its
page, at a desktop width and at a narrow one."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.fixtures.browser import save_screenshot
from tests.sync.lag_data import build_known_history
from vibes_integration.sync.models import OutboundCall

pytestmark = pytest.mark.browser

PASSWORD = "a long staff passphrase 7"

OVERFLOWS = """() => {
  const out = [];
  for (const card of document.querySelectorAll('.vibes-sync-figure')) {
    const box = card.getBoundingClientRect();
    for (const part of card.querySelectorAll('dt, dd')) {
      const r = part.getBoundingClientRect();
      const clipped = part.scrollWidth > part.clientWidth + 1;
      if (clipped || r.right > box.right + 1 || r.left < box.left - 1) {
        out.push(part.id || part.textContent.trim());
      }
    }
  }
  const chart = document.querySelector('svg.vibes-sync-chart').getBoundingClientRect();
  const main = document.querySelector('#content-main').getBoundingClientRect();
  if (chart.right > main.right + 1 || chart.width < 100) out.push('chart');
  return out;
}"""


@pytest.fixture
def staff(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return get_user_model().objects.create_superuser(
        username="jane", email="jane@example.com", password=PASSWORD
    )


def test_dashboard_figures_fit_their_cards(browser_page, live_server, staff):
    build_known_history()
    # A busy hour: figures with many digits.
    OutboundCall.objects.bulk_create(
        [OutboundCall(action="update_person", http_status=200, ok=True) for _ in range(12345)]
    )
    page = browser_page
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "jane")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.click("#vibes-sync-dashboard-link a")
    page.wait_for_selector("svg.vibes-sync-chart")
    assert page.locator("#vibes-sync-calls-hour").inner_text() == "12352 (2)"
    assert page.evaluate(OVERFLOWS) == []
    save_screenshot(page, "sync-dashboard-desktop")
    page.set_viewport_size({"width": 480, "height": 900})
    assert page.evaluate(OVERFLOWS) == []
    save_screenshot(page, "sync-dashboard-narrow")
