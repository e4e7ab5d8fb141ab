import datetime

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from prefcenter.conf import problems, setting
from prefcenter.preferences import checks
from prefcenter.preferences.client import client_ip, consent_context


def _request(remote: str, forwarded: str | None = None, agent: str = "UA"):
    extra = {"REMOTE_ADDR": remote, "HTTP_USER_AGENT": agent}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        ([], "203.0.113.1", "198.51.100.7", "203.0.113.1"),
        (["10.0.0.0/8"], "203.0.113.1", "198.51.100.7", "203.0.113.1"),
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.7", "198.51.100.7"),
        (["10.0.0.0/8"], "10.0.0.2", "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        (["10.0.0.0/8"], "10.0.0.2", "198.51.100.7, 10.0.0.3", "198.51.100.7"),
        (["10.0.0.0/8"], "10.0.0.2", "", "10.0.0.2"),
        (["10.0.0.0/8"], "10.0.0.2", "garbage, 10.0.0.3", "10.0.0.3"),
        (["10.0.0.2"], "10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        (["10.0.0.2"], "10.0.0.2", "198.51.100.7:5000", "198.51.100.7"),
        (["::1"], "::1", "2001:db8::5", "2001:db8::5"),
    ],
)
def test_client_ip_believes_forwarded_for_only_from_trusted_proxies(
    proxies, remote, forwarded, expected
):
    with override_settings(PREFCENTER_TRUSTED_PROXIES=proxies):
        assert client_ip(_request(remote, forwarded)) == expected


def test_trusted_proxies_default_to_the_vibes_setting():
    with override_settings(VIBES_TRUSTED_PROXIES=["10.0.0.0/8"]):
        assert client_ip(_request("10.0.0.2", "198.51.100.7")) == "198.51.100.7"
    with override_settings(
        VIBES_TRUSTED_PROXIES=["10.0.0.0/8"], PREFCENTER_TRUSTED_PROXIES="192.0.2.1"
    ):
        assert client_ip(_request("10.0.0.2", "198.51.100.7")) == "10.0.0.2"


def test_an_unusable_remote_address_gives_none():
    assert client_ip(_request("")) is None


def test_consent_context_carries_address_agent_and_one_reference_per_request():
    request = _request("203.0.113.1", agent="X" * 3000)
    first = consent_context(request, disclosure_text="Terms")
    second = consent_context(request)
    assert first.ip_address == "203.0.113.1"
    assert len(first.user_agent) == 2000
    assert first.disclosure_text == "Terms"
    assert second.disclosure_text is None
    assert first.reference == second.reference
    assert first.reference != consent_context(_request("203.0.113.1")).reference


def test_settings_come_from_settings_then_environment_then_defaults(monkeypatch):
    assert setting("PREFCENTER_BRAND_NAME") == "Northwind Outfitters"
    monkeypatch.setenv("PREFCENTER_BRAND_NAME", "Env Brand")
    assert setting("PREFCENTER_BRAND_NAME") == "Env Brand"
    with override_settings(PREFCENTER_BRAND_NAME="Settings Brand"):
        assert setting("PREFCENTER_BRAND_NAME") == "Settings Brand"
    monkeypatch.setenv("PREFCENTER_LINK_MAX_AGE", "3600")
    assert setting("PREFCENTER_LINK_MAX_AGE") == 3600
    with override_settings(PREFCENTER_LINK_MAX_AGE=datetime.timedelta(days=2)):
        assert setting("PREFCENTER_LINK_MAX_AGE") == 172800


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PREFCENTER_LINK_MAX_AGE", "a month"),
        ("PREFCENTER_LINK_MAX_AGE", 0),
        ("PREFCENTER_TRUSTED_PROXIES", "10.0.0.0/8, not-an-address"),
        ("PREFCENTER_LINK_LIMIT_PER_EMAIL", "many"),
    ],
)
def test_bad_settings_are_reported_by_the_system_check(name, value):
    with override_settings(**{name: value}):
        errors = [m for m in run_checks() if m.id == "prefcenter.E100"]
    assert len(errors) == 1
    assert name in errors[0].msg


def test_the_defaults_are_all_valid():
    assert problems() == {}


def test_production_with_local_memory_cache_is_warned(settings):
    settings.PRODUCTION = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [w.id for w in checks.check_rate_limit_cache()] == ["prefcenter.W601"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert checks.check_rate_limit_cache() == []


def test_unknown_setting_names_are_programming_errors():
    with pytest.raises(KeyError):
        setting("PREFCENTER_NO_SUCH_LIMIT")
    with pytest.raises(ImproperlyConfigured), override_settings(PREFCENTER_LINK_MAX_AGE=-5):
        setting("PREFCENTER_LINK_MAX_AGE")


def test_the_browser_tests_leave_django_async_safety_on():
    """They run before this one in a full run; a leaked variable would disable the check
    everywhere after them and fail ``check --deploy`` in any process a later test starts."""
    import os

    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
