import re

import pytest
from django.core import mail
from django.test import override_settings

from prefcenter.preferences.tokens import resolve_token
from tests.fixtures.builders import make_person


def _link_in(message) -> str:
    match = re.search(r"http://testserver-site/preferences/(\S+)/", message.body)
    assert match, message.body
    return match.group(1)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "http://testserver-site"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_the_form_is_at_preferences_and_the_root_leads_there(client, db):
    assert client.get("/").headers["Location"] == "/preferences/"
    page = client.get("/preferences/").content.decode()
    assert "Send me my link" in page
    assert '<label class="field__label" for="id_email">Email</label>' in page


def test_a_known_address_gets_an_email_with_a_working_link(client, newcomer, run_link_emails):
    response = client.post("/preferences/", {"email": " Grace@Example.com "})
    assert response.status_code == 303
    assert response.headers["Location"] == "/preferences/link-sent/"
    assert mail.outbox == []  # sent by the task worker, not inside the request
    assert run_link_emails() >= 1
    [message] = mail.outbox
    assert message.to == ["grace@example.com"]
    assert message.subject == "Your Northwind Outfitters preferences link"
    assert "Hi Grace," in message.body
    assert "30 days" in message.body
    assert resolve_token(_link_in(message)) == newcomer


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, newcomer, run_link_emails):
    known = client.post("/preferences/", {"email": "grace@example.com"}, follow=True)
    unknown = client.post("/preferences/", {"email": "nobody@example.com"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [("/preferences/link-sent/", 303)]
    assert known.content == unknown.content
    assert "If we know that address" in unknown.content.decode()
    run_link_emails()
    assert [m.to for m in mail.outbox] == [["grace@example.com"]]


def test_every_person_sharing_an_address_gets_their_own_link(client, run_link_emails, db):
    first = make_person(first_name="One", email="family@example.com")
    second = make_person(first_name="Two", email="family@example.com")
    client.post("/preferences/", {"email": "family@example.com"})
    run_link_emails()
    assert sorted(resolve_token(_link_in(m)).pk for m in mail.outbox) == [first.pk, second.pk]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Enter the email address you use with us."),
        ("grace@", "Enter an email address like name@example.com."),
    ],
)
def test_a_bad_address_is_explained_and_kept(client, db, value, message):
    response = client.post("/preferences/", {"email": value})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'aria-invalid="true"' in page
    if value:
        assert f'value="{value}"' in page


def test_link_requests_per_email_are_limited(client, newcomer, run_link_emails):
    with override_settings(PREFCENTER_LINK_LIMIT_PER_EMAIL="2/1h"):
        for _ in range(2):
            assert client.post("/preferences/", {"email": "grace@example.com"}).status_code == 303
        response = client.post("/preferences/", {"email": "GRACE@example.com"})
        assert response.status_code == 429
        assert "A link for this address was asked for several times already." in (
            response.content.decode()
        )
        # The same limit for an unknown address: the limit says nothing about who is known.
        for _ in range(2):
            client.post("/preferences/", {"email": "nobody@example.com"})
        assert client.post("/preferences/", {"email": "nobody@example.com"}).status_code == 429
    run_link_emails()
    assert len(mail.outbox) == 2


def test_link_requests_per_client_address_are_limited(client, db):
    with override_settings(PREFCENTER_LINK_LIMIT_PER_ADDRESS="3/10m"):
        codes = [
            client.post(
                "/preferences/", {"email": f"p{i}@example.com"}, REMOTE_ADDR="198.51.100.3"
            ).status_code
            for i in range(4)
        ]
        assert codes == [303, 303, 303, 429]
        response = client.post(
            "/preferences/", {"email": "p9@example.com"}, REMOTE_ADDR="198.51.100.3"
        )
        assert "Too many link requests from your network. Please try again in 10 minutes." in (
            response.content.decode()
        )
        other = client.post(
            "/preferences/", {"email": "p9@example.com"}, REMOTE_ADDR="198.51.100.4"
        )
        assert other.status_code == 303


def test_the_link_request_form_needs_its_csrf_token(db):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/preferences/", {"email": "a@example.com"})
    assert response.status_code == 403
