"""``GET /healthz`` tells a load balancer whether this process can reach its database."""

import json
import secrets

import pytest
from django.db import connection

from tests.project.conftest import closed_port, gunicorn, http_get

PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "127.0.0.1",
}


@pytest.mark.django_db
def test_healthz_is_ok_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def _reachable_database_url(tmp_path) -> str:
    if connection.vendor == "postgresql":
        settings = connection.settings_dict
        return (
            f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
    return f"sqlite:///{tmp_path / 'health.sqlite3'}"


def test_production_server_answers_200_over_plain_http(tmp_path):
    """Load balancers probe without TLS: /healthz is exempt from the HTTPS redirect."""
    with gunicorn(**PRODUCTION, DATABASE_URL=_reachable_database_url(tmp_path)) as server:
        status, _headers, body = http_get(f"{server.url}/healthz")
        assert status == 200
        assert json.loads(body) == {"status": "ok", "database": "ok"}
        redirected, headers, _ = http_get(f"{server.url}/admin/login/")
        assert redirected == 301 and headers["Location"].startswith("https://")


def test_production_server_answers_503_when_postgresql_is_unreachable():
    with closed_port() as port:
        database_url = f"postgres://prefcenter:s3cret-pw@127.0.0.1:{port}/prefcenter"
        with gunicorn(**PRODUCTION, DATABASE_URL=database_url) as server:
            status, _headers, body = http_get(f"{server.url}/healthz")
    assert status == 503
    assert json.loads(body) == {"status": "unavailable", "database": "unreachable"}
    assert "the database is unreachable (OperationalError)" in server.output
    assert "s3cret-pw" not in server.output


def test_healthz_answers_503_when_the_sqlite_file_cannot_be_opened(tmp_path):
    missing = tmp_path / "no-such-directory" / "prefcenter.sqlite3"
    with gunicorn(**PRODUCTION, DATABASE_URL=f"sqlite:///{missing}") as server:
        status, _headers, body = http_get(f"{server.url}/healthz")
    assert status == 503
    assert b"unreachable" in body
