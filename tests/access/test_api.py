"""Access requests through the API: create, read the status, download (scope privacy)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from prefcenter.access.models import AccessRequest, AccessRequestChannel
from tests.api.conftest import authorized, make_api_key

pytestmark = pytest.mark.django_db
BASE = "/api/v1/privacy/access-requests/"


@pytest.fixture
def privacy_api(db):
    return authorized(make_api_key(scopes=["privacy"], name="dpo-tool"))


def test_create_then_status_then_download(privacy_api, history):
    created = privacy_api.post(
        BASE, {"external_person_id": "crm-alice-01"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "ready"
    assert body["person"] == history.alice.pk
    access_request = AccessRequest.objects.get()
    assert access_request.channel == AccessRequestChannel.API
    assert access_request.requested_by == "dpo-tool"

    status = privacy_api.get(f"{BASE}{body['id']}/")
    assert status.status_code == 200
    assert status.json()["completed_at"] is None

    download = privacy_api.get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as archive:
        document = json.loads(archive.read("export.json"))
    assert document["request_id"] == body["id"]
    assert len(document["sections"]["consent_events"]) == 3

    done = privacy_api.get(f"{BASE}{body['id']}/").json()
    assert done["status"] == "completed"
    assert done["completed_at"] is not None

    as_json = privacy_api.get(body["download_url"], {"format": "json"})
    assert as_json["Content-Type"] == "application/json"
    assert json.loads(b"".join(as_json.streaming_content))["person_id"] == history.alice.pk


def test_bad_requests_are_problems(privacy_api, history):
    both = privacy_api.post(BASE, {"person": 1, "external_person_id": "x"}, format="json")
    assert both.status_code == 400
    assert both["Content-Type"].startswith("application/problem+json")
    assert privacy_api.post(BASE, {}, format="json").status_code == 400
    assert privacy_api.post(BASE, {"person": 99999999}, format="json").status_code == 404
    unknown = "00000000-0000-0000-0000-000000000000"
    assert privacy_api.get(f"{BASE}{unknown}/").status_code == 404
    assert privacy_api.get(f"{BASE}{unknown}/download/").status_code == 404
    assert not AccessRequest.objects.exists()


def test_the_privacy_scope_is_required(history):
    api = authorized(make_api_key(scopes=["persons:read", "consent:read"]))
    assert api.post(BASE, {"person": history.alice.pk}, format="json").status_code == 403
    assert not AccessRequest.objects.exists()
