"""Fixtures of the API tests: clients with real keys made the way the admin makes them."""

from __future__ import annotations

import itertools

import pytest
from rest_framework.test import APIClient

from prefcenter.api.keys import api_key_issue
from prefcenter.api.models import ApiClient
from prefcenter.api.scopes import Scope

_names = itertools.count(1)


def make_api_key(*, scopes: list[str] | None = None, **fields) -> str:
    """A new client with ``scopes`` (all by default) and the plaintext of its first key."""
    fields.setdefault("name", f"client-{next(_names)}")
    client = ApiClient.objects.create(
        scopes=list(Scope.values) if scopes is None else scopes, **fields
    )
    return api_key_issue(client=client).plaintext


def authorized(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api_key(db) -> str:
    return make_api_key()


@pytest.fixture
def api(api_key) -> APIClient:
    return authorized(api_key)
