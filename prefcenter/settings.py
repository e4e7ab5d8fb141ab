"""Django settings for prefcenter.

Every value an operator may change is declared in ``prefcenter.settings_registry`` and
documented in the configuration tables generated from it. Django's own values are read here
from the environment (``prefcenter.conf.environment_setting``); every other one is read when
used through ``prefcenter.conf.setting``, so it is not copied into Django settings here.
Production mode (``DJANGO_ENV=production``) refuses to start with settings that would be
unsafe there.
"""

import contextlib
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from prefcenter.conf import check_environment
from prefcenter.conf import environment_setting as env
from prefcenter.settings_registry.project import DEVELOPMENT_SECRET_KEY

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

check_environment()
DJANGO_ENV = env("DJANGO_ENV")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env("DEBUG")
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL").rstrip("/")

if PRODUCTION:
    problems = []
    if DEBUG:
        problems.append("DEBUG is on (set DEBUG=0)")
    if not SECRET_KEY or SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY is missing, the development key, or shorter than 50 characters")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS is empty (set ALLOWED_HOSTS=www.example.com)")
    if problems:
        raise ImproperlyConfigured(
            "prefcenter refuses to start in production: " + "; ".join(problems) + "."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "phonenumber_field",
    "django_tasks",
    "django_tasks_db",
    "prefcenter",
    "prefcenter.workers",
    "crm",
    "vibes_integration",
    "vibes_integration.callbacks",
    "vibes_integration.sync",
    "prefcenter.api",
    "prefcenter.webhooks",
    "prefcenter.access",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "prefcenter.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "prefcenter.urls"
WSGI_APPLICATION = "prefcenter.wsgi.application"
ASGI_APPLICATION = "prefcenter.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# Several test suites on one machine (or one checkout) each name their own test database.
_TEST_DATABASE = os.environ.get("PREFCENTER_TEST_DATABASE", "prefcenter")


def _database(url: str) -> dict:
    if not url:
        VAR_DIR.mkdir(exist_ok=True)
        url = f"sqlite:///{VAR_DIR / 'prefcenter.sqlite3'}"
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} is not valid: {exc}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue on the busy timeout instead of failing mid-transaction.
        # Connections persist (CONN_MAX_AGE as for PostgreSQL): closing the last connection
        # to a WAL database checkpoints and removes the WAL, which made opening and closing
        # one per request half of what a callback request cost.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # Tests use a file, not memory, so that worker processes started by the tests
        # can share the test database.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-{_TEST_DATABASE}.sqlite3")}
        VAR_DIR.mkdir(exist_ok=True)
    else:
        # A database host that does not answer must fail fast (and /healthz say 503),
        # not wait for the operating system's TCP timeout.
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
        config["TEST"] = {"NAME": f"test_{_TEST_DATABASE}"}
    return config


DATABASES = {"default": _database(env("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_cache_url = env("CACHE_URL")
if _cache_url:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _cache_url,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves collected files from here in production; it must exist before then.
with contextlib.suppress(OSError):  # a read-only deployment collects them at build time
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

PHONENUMBER_DEFAULT_REGION = "US"
PHONENUMBER_DEFAULT_FORMAT = "E164"
PHONENUMBER_DB_FORMAT = "E164"

_email_url = env("EMAIL_URL")
if _email_url:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    _email = dj_database_url.urlparse.urlparse(_email_url)
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or 25
    EMAIL_HOST_USER = _email.username or ""
    EMAIL_HOST_PASSWORD = _email.password or ""
    EMAIL_USE_TLS = _email.scheme == "smtp+tls"
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [(address, address) for address in env("ADMINS")]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_SCHEMA_CLASS": "prefcenter.api.openapi.ProblemAutoSchema",
}

# The API's OpenAPI document (prefcenter.api; committed as docs/openapi/api-v1.yaml).
SPECTACULAR_SETTINGS = {
    "TITLE": "prefcenter API",
    "DESCRIPTION": "Persons, subscriptions and the consent ledger of the preference center. "
    "See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "PREPROCESSING_HOOKS": ["prefcenter.api.openapi.only_api_v1"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "StateEnum": "crm.choices.SubscriptionState",
        "WebhookEventTypeEnum": "prefcenter.webhooks.choices.EventType",
        "WebhookDeliveryStateEnum": "prefcenter.webhooks.choices.DeliveryState",
        "WebhookAttemptOutcomeEnum": "prefcenter.webhooks.choices.AttemptOutcome",
    },
}

SECURE_CONTENT_TYPE_NOSNIFF = True
# Not "no-referrer": browsers then send "Origin: null" with form posts (the admin login
# among them), which Django's CSRF check refuses. "same-origin" still tells other sites nothing.
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz(/workers)?$"]
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

_LOG_LEVELS = dict(env("PREFCENTER_LOG_LEVELS"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "full": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "short": {"format": "%(asctime)s %(levelname)s %(message)s", "datefmt": "%H:%M:%S"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": env("PREFCENTER_LOG_FORMAT")}
    },
    "root": {"handlers": ["console"], "level": _LOG_LEVELS.pop("root", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        **{name: {"level": level} for name, level in _LOG_LEVELS.items()},
    },
}
