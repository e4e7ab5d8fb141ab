"""``manage.py ensure_admin``: a staff login exists, without a password in the repository."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashing(settings):
    # The production hasher is slow on purpose; these tests check which password is set.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def ensure(monkeypatch, password=None) -> str:
    if password is None:
        monkeypatch.delenv("PREFCENTER_ADMIN_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("PREFCENTER_ADMIN_PASSWORD", password)
    out = StringIO()
    call_command("ensure_admin", "--username", "staff", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_creates_a_superuser_with_a_generated_password_shown_once(monkeypatch):
    output = ensure(monkeypatch)
    user = get_user_model().objects.get(username="staff")
    assert user.is_superuser and user.is_staff and user.is_active
    password = next(line for line in output.splitlines() if line.startswith("Password: "))
    assert user.check_password(password.removeprefix("Password: "))
    again = ensure(monkeypatch)
    assert "Password" not in again
    assert "exists" in again and "/admin/" in again
    assert get_user_model().objects.count() == 1


def test_password_from_the_environment(monkeypatch):
    output = ensure(monkeypatch, password="correct horse battery staple")
    assert "Password:" not in output
    user = get_user_model().objects.get(username="staff")
    assert user.check_password("correct horse battery staple")
    ensure(monkeypatch, password="another long passphrase 42")
    user.refresh_from_db()
    assert user.check_password("another long passphrase 42")


def test_a_weak_password_is_refused(monkeypatch):
    with pytest.raises(CommandError, match="PREFCENTER_ADMIN_PASSWORD"):
        ensure(monkeypatch, password="admin")
    assert not get_user_model().objects.exists()
