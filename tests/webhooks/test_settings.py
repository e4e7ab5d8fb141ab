"""The webhook settings: one accessor, a clear error naming a bad value, a system check."""

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from prefcenter.conf import setting


def test_defaults_follow_the_specifications_schedule(settings):
    del settings.WEBHOOK_RETRY_SCHEDULE

    assert setting("WEBHOOK_RETRY_SCHEDULE") == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert setting("WEBHOOK_FULL_MDN") is False


def test_the_environment_is_read_when_django_has_no_setting(settings, monkeypatch):
    del settings.WEBHOOK_RETRY_SCHEDULE
    monkeypatch.setenv("WEBHOOK_RETRY_SCHEDULE", "1, 2,4")
    monkeypatch.setenv("WEBHOOK_FULL_MDN", "yes")

    assert setting("WEBHOOK_RETRY_SCHEDULE") == (1.0, 2.0, 4.0)
    assert setting("WEBHOOK_FULL_MDN") is True


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_RETRY_SCHEDULE", "5,soon"),
        ("WEBHOOK_RETRY_SCHEDULE", "5,0"),
        ("WEBHOOK_RETRY_JITTER", "1.5"),
        ("WEBHOOK_PAUSE_AFTER_FAILURES", "0"),
        ("WEBHOOK_FULL_MDN", "maybe"),
    ],
)
def test_a_bad_value_is_refused_naming_the_setting(settings, name, value):
    setattr(settings, name, value)

    with pytest.raises(ImproperlyConfigured, match=name):
        setting(name)
    errors = [m for m in checks.run_checks() if m.id == "prefcenter.E100"]
    assert len(errors) == 1 and name in errors[0].msg


def test_a_lease_shorter_than_the_timeouts_is_warned_about(settings):
    settings.WEBHOOK_LEASE_SECONDS = 3

    assert "prefcenter.W501" in {m.id for m in checks.run_checks()}
