"""Keys, scopes, the per-client rate and the one error shape."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from prefcenter.api.keys import api_key_check, api_key_revoke, key_digest
from prefcenter.api.models import ApiClient, ApiKey
from prefcenter.api.scopes import Scope
from tests.api.conftest import authorized, make_api_key
from tests.fixtures.builders import make_person

pytestmark = pytest.mark.django_db


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:prefcenter:problem:")
    assert body["title"] and body["detail"]
    return body


def test_only_the_digest_of_a_key_is_stored(api_key):
    [stored] = ApiKey.objects.all()
    assert api_key.startswith(f"pck_{stored.prefix}_")
    assert stored.digest == key_digest(api_key)
    assert api_key not in {stored.prefix, stored.digest}


def test_no_key_a_wrong_key_and_a_revoked_key_get_401(api_key):
    assert_problem(APIClient().get("/api/v1/persons/"), 401)
    response = authorized(api_key[:-2] + "xx").get("/api/v1/persons/")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    api_key_revoke(api_key=ApiKey.objects.get())
    assert_problem(authorized(api_key).get("/api/v1/persons/"), 401)
    assert api_key_check(api_key) is None


def test_an_inactive_client_is_refused(api_key):
    ApiClient.objects.update(is_active=False)
    assert_problem(authorized(api_key).get("/api/v1/persons/"), 401)


def test_a_missing_scope_gets_403():
    key = make_api_key(scopes=[Scope.PERSONS_READ])
    api = authorized(key)
    assert api.get("/api/v1/persons/").status_code == 200
    body = assert_problem(api.get("/api/v1/consent-events/"), 403)
    assert "consent:read" in body["detail"]
    assert_problem(api.put("/api/v1/persons/external/x/", {}, format="json"), 403)


def test_last_used_is_written_at_most_once_per_interval(api_key, settings):
    settings.PREFCENTER_API_LAST_USED_INTERVAL = 3600
    api = authorized(api_key)
    api.get("/api/v1/persons/")
    first = ApiKey.objects.get().last_used_at
    assert first is not None
    assert ApiClient.objects.get().last_used_at == first
    api.get("/api/v1/persons/")
    assert ApiKey.objects.get().last_used_at == first
    ApiKey.objects.update(last_used_at=first - datetime.timedelta(hours=2))
    api.get("/api/v1/persons/")
    assert ApiKey.objects.get().last_used_at > first - datetime.timedelta(minutes=1)
    assert ApiKey.objects.get().last_used_at <= timezone.now()


def test_each_client_has_its_own_rate(settings):
    from django.core.cache import cache

    cache.clear()
    settings.PREFCENTER_API_RATE = "2/min"
    first, second = authorized(make_api_key()), authorized(make_api_key())
    assert [first.get("/api/v1/lists/").status_code for _ in range(2)] == [200, 200]
    body = assert_problem(first.get("/api/v1/lists/"), 429)
    assert "throttled" in body["detail"].lower() or "request" in body["detail"].lower()
    assert second.get("/api/v1/lists/").status_code == 200
    cache.clear()


def test_a_client_rate_overrides_the_setting(settings):
    from django.core.cache import cache

    cache.clear()
    settings.PREFCENTER_API_RATE = "100/min"
    api = authorized(make_api_key(rate="1/min"))
    assert api.get("/api/v1/lists/").status_code == 200
    response = api.get("/api/v1/lists/")
    assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0
    cache.clear()


def test_method_media_type_and_address_errors_are_problems(api):
    person = make_person()
    assert_problem(api.delete(f"/api/v1/persons/{person.pk}/"), 405)
    response = api.patch(f"/api/v1/persons/{person.pk}/", "first_name=x", content_type="text/plain")
    assert_problem(response, 415)
    assert_problem(api.get("/api/v1/nothing-here/"), 404)
    assert_problem(api.get("/api/v2/persons/"), 404)
    response = api.patch(
        f"/api/v1/persons/{person.pk}/", "{not json", content_type="application/json"
    )
    assert_problem(response, 400)
    assert_problem(api.get("/api/v1/persons/", HTTP_ACCEPT="text/html"), 406)


def test_an_unknown_cursor_is_a_404_problem(api):
    assert_problem(api.get("/api/v1/persons/?cursor=bogus"), 404)


def test_an_unknown_query_parameter_is_refused_not_ignored(api):
    person = make_person()
    misspelt = api.get("/api/v1/persons/?update_since=2026-01-01T00:00:00Z")
    body = assert_problem(misspelt, 400)
    [error] = body["errors"]
    assert error["pointer"] == "?update_since"
    assert "updated_since" in error["detail"]
    assert_problem(api.get("/api/v1/persons/?=0"), 400)
    assert_problem(api.get(f"/api/v1/persons/{person.pk}/?format=json"), 400)
    assert api.get("/api/v1/persons/?updated_since=2026-01-01T00:00:00Z").status_code == 200
    assert api.get("/api/v1/persons/?page_size=2").status_code == 200
