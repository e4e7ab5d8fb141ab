"""Settings are read through one accessor, are checked, and production refuses unsafe ones."""

import secrets

import pytest
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import request_finished, request_started
from django.db import connection
from django.test import override_settings

from prefcenter.conf import environment_setting, setting
from prefcenter.settings_registry import SETTINGS
from prefcenter.settings_registry.project import DEVELOPMENT_SECRET_KEY
from tests.project.conftest import manage

SAFE_PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "preferences.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://preferences.example.com",
    "SITE_URL": "https://preferences.example.com",
    "DATABASE_URL": "postgres://prefcenter:secret@127.0.0.1:5432/prefcenter",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    "CACHE_URL": "redis://127.0.0.1:6379/0",
    "VIBES_API_URL": "https://public-api.vibescm.com",
    "VIBES_COMPANY_KEY": "northwind",
    "VIBES_USERNAME": "api-user",
    "VIBES_PASSWORD": secrets.token_urlsafe(20),
    "VIBES_CALLBACK_USERNAME": "vibes",
    "VIBES_CALLBACK_PASSWORD": secrets.token_urlsafe(20),
    "PREFCENTER_ERASURE_HASH_KEY": secrets.token_urlsafe(40),
}


def test_a_proper_production_configuration_passes_the_deploy_checks():
    result = manage("check", "--deploy", **SAFE_PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"DEBUG": "1"}, "DEBUG is on"),
        ({"SECRET_KEY": DEVELOPMENT_SECRET_KEY}, "SECRET_KEY is missing, the development key"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is missing"),
        ({"SECRET_KEY": "too-short"}, "shorter than 50 characters"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is empty"),
    ],
)
def test_production_refuses_to_start_with_unsafe_settings(changes, message):
    result = manage("check", **{**SAFE_PRODUCTION, **changes})
    assert result.returncode != 0
    assert "prefcenter refuses to start in production" in result.stderr
    assert message in result.stderr


def test_production_on_sqlite_with_console_email_is_warned_about():
    on_sqlite = {
        **SAFE_PRODUCTION,
        "DATABASE_URL": "sqlite:////tmp/prefcenter-check.sqlite3",
        "EMAIL_URL": "",
    }
    result = manage("check", "--deploy", **on_sqlite)
    assert "prefcenter.W001" in result.stderr
    assert "prefcenter.W002" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_ENV", "staging"),
        ("DEBUG", "maybe"),
        ("VIBES_RATE_LIMIT", "lots"),
        ("VIBES_RATE_LIMIT", "0"),
        ("DATABASE_URL", "mysql-ish://"),
    ],
)
def test_a_bad_value_names_the_variable(variable, value):
    result = manage("check", **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_the_accessor_reads_the_django_setting_then_the_environment_then_the_default(
    monkeypatch,
):
    monkeypatch.delenv("VIBES_RATE_LIMIT", raising=False)
    assert setting("VIBES_RATE_LIMIT") == 100
    monkeypatch.setenv("VIBES_RATE_LIMIT", "40")
    assert setting("VIBES_RATE_LIMIT") == 40
    with override_settings(VIBES_RATE_LIMIT=7):
        assert setting("VIBES_RATE_LIMIT") == 7
    with override_settings(VIBES_RATE_LIMIT=None):
        assert setting("VIBES_RATE_LIMIT") == 40
    monkeypatch.setenv("VIBES_RATE_LIMIT", "")
    assert setting("VIBES_RATE_LIMIT") == 100


def test_the_environment_reader_of_settings_py_parses_and_defaults(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " a.example.com, b.example.com ,")
    assert environment_setting("ALLOWED_HOSTS") == ["a.example.com", "b.example.com"]
    monkeypatch.setenv("DEBUG", "off")
    assert environment_setting("DEBUG") is False
    monkeypatch.delenv("DEBUG")
    monkeypatch.setenv("DJANGO_ENV", "production")
    assert environment_setting("DEBUG") is False
    monkeypatch.setenv("DJANGO_ENV", "development")
    assert environment_setting("DEBUG") is True
    monkeypatch.setenv("DEBUG", "sometimes")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        environment_setting("DEBUG")


@pytest.mark.parametrize(
    ("value", "origin"),
    [("lots", "the Django setting"), (None, "the environment variable")],
)
def test_a_bad_value_names_the_setting_its_origin_and_what_to_write(monkeypatch, value, origin):
    monkeypatch.setenv("VIBES_RATE_LIMIT", "many")
    with override_settings(VIBES_RATE_LIMIT=value), pytest.raises(ImproperlyConfigured) as error:
        setting("VIBES_RATE_LIMIT")
    message = str(error.value)
    assert f"VIBES_RATE_LIMIT={value or 'many'!r} ({origin}) is not valid" in message
    assert "expected a whole number greater than zero, such as 30" in message


def test_parsers_take_django_values_as_well_as_strings(settings):
    settings.VIBES_CALLBACK_CREDENTIALS = [("vibes", "secret")]
    settings.WEBHOOK_FULL_MDN = True
    settings.PREFCENTER_TEXTED_COUNTRIES = ["us", "ca"]
    assert setting("VIBES_CALLBACK_CREDENTIALS") == [("vibes", "secret")]
    assert setting("WEBHOOK_FULL_MDN") is True
    assert setting("PREFCENTER_TEXTED_COUNTRIES") == ["US", "CA"]


def test_unknown_names_are_programming_errors():
    with pytest.raises(KeyError, match="not declared"):
        setting("VIBES_NO_SUCH_THING")


def test_every_setting_has_help_and_an_owner_and_parses_its_default():
    for spec in SETTINGS.values():
        assert spec.help and spec.owner, spec.name
        if not callable(spec.default):
            spec.parse(spec.default)


def test_settings_py_copies_no_setting_another_part_reads():
    copied = [
        name
        for name, spec in SETTINGS.items()
        if spec.owner != "django" and name in vars(settings._wrapped)
    ]
    assert copied == []


def test_development_defaults_to_a_sqlite_file_in_the_project_with_wal():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; from django.db import connection; "
        "print(settings.DATABASES['default']['NAME']); print(settings.DEBUG); "
        "from prefcenter.conf import setting; print(setting('VIBES_RATE_LIMIT'))",
    )
    assert result.returncode == 0, result.stderr
    name, debug, rate = result.stdout.split()[-3:]
    assert name.endswith("var/prefcenter.sqlite3")
    assert debug == "True"
    assert rate == "100"


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode():
    if connection.vendor != "sqlite":
        pytest.skip("WAL is SQLite's")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


@pytest.mark.django_db(transaction=True)
def test_a_database_connection_outlives_the_request():
    """On SQLite too: closing the last connection to a WAL database checkpoints it, which
    made opening and closing one per request half of what a small request cost."""
    connection.ensure_connection()
    opened = connection.connection
    request_started.send(sender=None)
    request_finished.send(sender=None)
    assert connection.connection is opened


def _ids(**overrides) -> set[str]:
    with override_settings(**overrides):
        return {message.id for message in checks.run_checks(include_deployment_checks=True)}


@pytest.mark.parametrize(
    ("overrides", "check_id"),
    [
        ({"SITE_URL": "preferences.example.com"}, "prefcenter.E001"),
        ({"PRODUCTION": True, "SITE_URL": "http://preferences.example.com"}, "prefcenter.W003"),
        (
            {
                "PRODUCTION": True,
                "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
            },
            "prefcenter.W002",
        ),
        ({"VIBES_API_URL": "public-api.vibescm.com"}, "prefcenter.E201"),
        ({"VIBES_PASSWORD": ""}, "prefcenter.E100"),
        ({"VIBES_RATE_LIMIT": 0}, "prefcenter.E100"),
        ({"VIBES_RATE_LIMIT": 500}, "prefcenter.W202"),
        ({"WEBHOOK_RETRY_JITTER": "1.5"}, "prefcenter.E100"),
        ({"PREFCENTER_LINK_MAX_AGE": 0}, "prefcenter.E100"),
    ],
)
def test_system_checks_have_stable_ids(overrides, check_id):
    assert check_id in _ids(**overrides)
    if "VIBES_RATE_LIMIT" in overrides:
        assert check_id not in _ids(VIBES_RATE_LIMIT=100)
