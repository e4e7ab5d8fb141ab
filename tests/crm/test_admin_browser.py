"""A staff member in a real browser: logs in, finds a person by a pasted number, edits a
custom field, and the change goes through the services."""

import pytest
from django.contrib.auth import get_user_model

from crm.choices import Source
from crm.demo.loader import load_demo
from crm.models import Person
from tests.fixtures.browser import save_screenshot

pytestmark = pytest.mark.browser

PASSWORD = "a long staff passphrase 7"


@pytest.fixture
def staff(transactional_db, settings):
    # The production hasher is slow on purpose; this test is about the pages.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    load_demo(persons=20)
    return get_user_model().objects.create_superuser(
        username="jane", email="jane@example.com", password=PASSWORD
    )


def test_staff_log_in_find_a_person_by_number_and_edit_a_custom_field(
    browser_page, live_server, staff, signal_log
):
    page = browser_page
    person = Person.objects.get(external_person_id="demo-0004")
    national = str(person.mdn)[2:]
    typed = f"({national[:3]}) {national[3:6]}-{national[6:]}"

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "jane")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")  # a refused login stays on the login page

    page.goto(f"{live_server.url}/admin/crm/person/")
    page.fill("#searchbar", typed)
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    row_text = rows.first.inner_text()
    assert f"+1•••••{national[-4:]}" in row_text
    assert str(person.mdn) not in page.content()
    save_screenshot(page, "crm-admin-person-search")

    rows.first.locator("th a").click()
    page.wait_for_selector("#id_custom__shoe_size")
    assert page.input_value("#id_mdn") == str(person.mdn)
    page.fill("#id_custom__shoe_size", "11.5")
    page.select_option("#id_custom__preferred_store", "boise")
    save_screenshot(page, "crm-admin-person-change")
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist li.success")

    person.refresh_from_db()
    assert person.custom_fields["shoe_size"] == 11.5
    assert person.custom_fields["preferred_store"] == "boise"
    [change] = [c for c in signal_log.of("person_changed") if not c["created"]]
    assert change["source"] == Source.STAFF
    assert "custom_fields.shoe_size" in change["changed_fields"]
