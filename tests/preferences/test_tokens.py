import time

import pytest
from django.core import signing
from django.test import override_settings

from crm import services
from prefcenter.preferences.tokens import (
    ExpiredLink,
    InvalidLink,
    make_token,
    preference_path,
    preference_url,
    resolve_token,
)
from tests.fixtures.builders import make_person

DAY = 86400


def _token_made_ago(person, seconds: int) -> str:
    signer_timestamp = signing.b62_encode(int(time.time()) - seconds)
    original = signing.TimestampSigner.timestamp
    signing.TimestampSigner.timestamp = lambda self: signer_timestamp
    try:
        return make_token(person)
    finally:
        signing.TimestampSigner.timestamp = original


def test_a_token_resolves_to_its_person(newcomer):
    other = make_person(first_name="Other")
    assert resolve_token(make_token(newcomer)) == newcomer
    assert resolve_token(make_token(other)) == other


@override_settings(SITE_URL="https://prefs.example.com")
def test_preference_url_is_absolute_from_site_url(newcomer):
    link = preference_url(newcomer)
    assert link.startswith("https://prefs.example.com/preferences/")
    assert link.endswith("/")
    token = link.removeprefix("https://prefs.example.com/preferences/").rstrip("/")
    assert resolve_token(token) == newcomer
    assert preference_url(newcomer, base_url="http://127.0.0.1:9000/").startswith(
        "http://127.0.0.1:9000/preferences/"
    )


def test_a_link_older_than_the_max_age_is_expired(newcomer):
    with override_settings(PREFCENTER_LINK_MAX_AGE=30 * DAY):
        assert resolve_token(_token_made_ago(newcomer, 29 * DAY)) == newcomer
        with pytest.raises(ExpiredLink):
            resolve_token(_token_made_ago(newcomer, 31 * DAY))
    with (
        override_settings(PREFCENTER_LINK_MAX_AGE=3600),
        pytest.raises(ExpiredLink),
    ):
        resolve_token(_token_made_ago(newcomer, 3601))


def test_expired_is_a_kind_of_invalid():
    assert issubclass(ExpiredLink, InvalidLink)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t.replace(".", ".x", 1),
        lambda t: "",
        lambda t: "not-a-token",
        lambda t: t.split(":", 1)[0],
    ],
    ids=["signature", "payload", "empty", "garbage", "unsigned"],
)
def test_a_tampered_link_is_refused(newcomer, tamper):
    with pytest.raises(InvalidLink) as excinfo:
        resolve_token(tamper(make_token(newcomer)))
    assert not isinstance(excinfo.value, ExpiredLink)


def test_a_link_cannot_be_pointed_at_another_person(newcomer):
    other = make_person(first_name="Mallory")
    token = make_token(newcomer)
    forged = token.replace(f"{newcomer.pk}.", f"{other.pk}.", 1)
    with pytest.raises(InvalidLink):
        resolve_token(forged)
    # Even a correctly signed token carrying the other person's id is refused without
    # that person's secret.
    signer = signing.TimestampSigner(salt="prefcenter.preferences.link")
    digest = token.split(":", 1)[0].split(".", 1)[1]
    with pytest.raises(InvalidLink):
        resolve_token(signer.sign(f"{other.pk}.{digest}"))


def test_rotating_the_link_secret_revokes_every_earlier_link(newcomer):
    first, second = make_token(newcomer), make_token(newcomer)
    services.person_rotate_link_secret(person=newcomer)
    for token in (first, second):
        with pytest.raises(InvalidLink):
            resolve_token(token)
    assert resolve_token(make_token(newcomer)) == newcomer


def test_a_link_of_a_deleted_person_is_refused(db):
    person = make_person(first_name="Gone")
    token = make_token(person)
    person.delete()
    with pytest.raises(InvalidLink):
        resolve_token(token)


def test_a_signature_made_with_another_secret_key_is_refused(newcomer):
    with override_settings(SECRET_KEY="another-secret-key-" + "x" * 40):
        token = make_token(newcomer)
    with pytest.raises(InvalidLink):
        resolve_token(token)


def test_links_survive_a_secret_key_rotation_through_fallbacks(newcomer, settings):
    old_key = settings.SECRET_KEY
    token = make_token(newcomer)
    settings.SECRET_KEY = "a-new-secret-key-" + "y" * 40
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert resolve_token(token) == newcomer


def test_expired_link_page_is_friendly_and_offers_a_new_link(client, newcomer):
    response = client.get(preference_path(newcomer).replace(make_token(newcomer), "x"))
    assert response.status_code == 404
    with override_settings(PREFCENTER_LINK_MAX_AGE=60):
        token = _token_made_ago(newcomer, 120)
        response = client.get(f"/preferences/{token}/")
    assert response.status_code == 410
    page = response.content.decode()
    assert "This link has expired" in page
    assert 'action="/preferences/"' in page
    assert 'name="email"' in page
    assert "Grace" not in page


def test_tampered_and_revoked_link_pages_say_how_to_get_a_new_one(client, newcomer):
    path = preference_path(newcomer)
    services.person_rotate_link_secret(person=newcomer)
    for bad in (path, path[:-3] + "zz/"):
        response = client.get(bad)
        assert response.status_code == 404
        page = response.content.decode()
        assert "This link does not work" in page
        assert "send you a new one" in page
        assert "grace@example.com" not in page
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow"


def test_a_link_shows_its_own_person_only(client, newcomer, subscriber):
    page = client.get(preference_path(newcomer)).content.decode()
    assert "grace@example.com" in page
    assert "ada@example.com" not in page
    page = client.get(preference_path(subscriber)).content.decode()
    assert "ada@example.com" in page
    assert "grace@example.com" not in page
