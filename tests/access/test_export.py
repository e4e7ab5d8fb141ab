"""The access export: everything about the person, nothing about anyone else, no secrets;
a zip of JSON and CSV per table, streamed; each download recorded as an access request."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse

from prefcenter.access.models import AccessRequest, AccessRequestChannel
from prefcenter.access.registry import SECTIONS
from prefcenter.preferences.tokens import preference_path
from tests.access.conftest import BROWSER, SECRET_HEADER, staff

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    assert response.streaming, "the export is streamed"
    return b"".join(response.streaming_content)


def _open_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def _csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def _staff_export(client, person, export_format="zip"):
    client.force_login(staff("clerk", "crm.view_person", "access.export_personal_data"))
    url = reverse("admin:access_person_export", args=[person.pk])
    return client.post(url, {"format": export_format})


def test_the_zip_holds_the_json_document_and_a_csv_per_table(client, history):
    alice = history.alice
    files = _open_zip(_body(_staff_export(client, alice)))

    assert set(files) == {"export.json"} | {f"{section.name}.csv" for section in SECTIONS}
    document = json.loads(files["export.json"])
    sections = document["sections"]
    assert sections["person"][0]["email"] == "alice@example.com"
    assert sections["person"][0]["mdn"] == "+12015550111"
    assert {row["list_id"] for row in sections["subscriptions"]} == {"1001", "1002"}
    ledger = sections["consent_events"]
    opt_in = next(row for row in ledger if row["reference"] == "request:abc")
    assert opt_in["ip_address"] == "203.0.113.7"
    assert opt_in["user_agent"] == BROWSER
    assert opt_in["disclosure_text"].startswith("News texts")
    assert any(row["opt_out_reason"] == "user_opt_out" for row in ledger)
    assert [row["event_id"] for row in sections["vibes_callbacks"]] == ["evt-alice-deals-1"]
    assert [row["action"] for row in sections["vibes_calls"]] == ["update_person"]
    assert [row["message_id"] for row in sections["webhook_events"]] == [f"msg_{alice.pk}"]

    csv_ledger = _csv(files["consent_events.csv"])
    assert len(csv_ledger) == len(ledger)
    assert {row["action"] for row in csv_ledger} == {row["action"] for row in ledger}
    assert _csv(files["person.csv"])[0]["last_name"] == "Archer"


def test_secrets_and_other_people_are_left_out(client, history):
    data = _body(_staff_export(client, history.alice, "json"))
    text = data.decode()
    json.loads(text)
    assert history.alice.link_secret not in text
    assert SECRET_HEADER not in text
    assert "Authorization" not in text and "authorization" not in text
    for stranger_value in ("Stella", "stella@example.com", "+12015550199", "Stranger-UA"):
        assert stranger_value not in text
    assert f"msg_{history.stranger.pk}" not in text
    assert "clerk" not in text  # the staff user who asked


def test_each_download_is_an_access_request_completed_when_it_was_delivered(client, history):
    response = _staff_export(client, history.alice)
    access_request = AccessRequest.objects.get(person=history.alice)
    assert access_request.channel == AccessRequestChannel.STAFF
    assert access_request.requested_by == "clerk"
    assert access_request.completed_at is None  # nothing sent yet
    _body(response)
    access_request.refresh_from_db()
    assert access_request.completed_at is not None
    assert access_request.downloads == 1


def test_staff_without_the_permission_get_no_export(client, history):
    client.force_login(staff("viewer", "crm.view_person"))
    url = reverse("admin:access_person_export", args=[history.alice.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"format": "zip"}).status_code == 403
    assert not AccessRequest.objects.exists()


def test_the_person_page_links_to_the_export_and_the_evidence(client, history):
    client.force_login(
        staff("clerk", "crm.view_person", "crm.view_consentevent", "access.export_personal_data")
    )
    page = client.get(reverse("admin:crm_person_change", args=[history.alice.pk])).content.decode()
    assert reverse("admin:access_person_export", args=[history.alice.pk]) in page
    assert reverse("admin:access_person_evidence", args=[history.alice.pk]) in page

    client.force_login(staff("viewer", "crm.view_person"))
    page = client.get(reverse("admin:crm_person_change", args=[history.alice.pk])).content.decode()
    assert "export-personal-data-link" not in page
    assert "consent-evidence-link" not in page


def test_the_subscriber_downloads_their_own_data_with_the_link(client, history):
    page_path = preference_path(history.alice)
    page = client.get(page_path).content.decode()
    export_path = reverse("preferences:my_data", args=[page_path.rstrip("/").split("/")[-1]])
    assert export_path in page

    response = client.post(export_path, {"format": "zip"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    files = _open_zip(_body(response))
    assert json.loads(files["export.json"])["person_id"] == history.alice.pk
    access_request = AccessRequest.objects.get(person=history.alice)
    assert access_request.channel == AccessRequestChannel.SUBSCRIBER
    assert access_request.completed_at is not None


def test_a_bad_link_gets_no_export_and_a_get_starts_no_download(client, history):
    response = client.post("/preferences/not-a-token/my-data/", {"format": "zip"})
    assert response.status_code == 404
    page_path = preference_path(history.alice)
    response = client.get(page_path + "my-data/")
    assert response.status_code == 303
    assert response["Location"].endswith("#my-data")
    assert not AccessRequest.objects.exists()


def test_queued_work_about_the_person_is_in_the_export(client, history):
    from prefcenter.preferences.tasks import email_link_to_person, email_links_for_address

    email_link_to_person.enqueue(history.alice.pk)
    email_links_for_address.enqueue("alice@example.com")
    email_link_to_person.enqueue(history.stranger.pk)
    email_links_for_address.enqueue("stella@example.com")
    document = json.loads(_body(_staff_export(client, history.alice, "json")))
    assert sorted(row["task_path"] for row in document["sections"]["queued_work"]) == [
        "prefcenter.preferences.tasks.email_link_to_person",
        "prefcenter.preferences.tasks.email_links_for_address",
    ]
