"""Sandbox person rules: uniqueness, merging, MDN changes, custom fields, versions, auth."""

from __future__ import annotations

import pytest

MDN = "+12015550141"
OTHER_MDN = "+12015550142"


def test_add_person_creates_201_then_merges_200_on_the_same_mdn(api):
    created = api("POST", "/mobiledb/persons/", json={"mobile_phone": {"mdn": MDN}})
    merged = api(
        "POST",
        "/mobiledb/persons/",
        json={"external_person_id": "p-1", "mobile_phone": {"mdn": MDN}},
    )

    assert created.status_code == 201
    assert merged.status_code == 200
    assert merged.json()["person_key"] == created.json()["person_key"]
    assert merged.json()["external_person_id"] == "p-1"


def test_add_person_409_when_the_mdn_belongs_to_another_external_id(api):
    api(
        "POST",
        "/mobiledb/persons/",
        json={"external_person_id": "p-2", "mobile_phone": {"mdn": MDN}},
    )

    answer = api(
        "POST",
        "/mobiledb/persons/",
        json={"external_person_id": "p-3", "mobile_phone": {"mdn": MDN}},
    )

    assert answer.status_code == 409
    assert answer.json() == {
        "errors": [
            {"message": "The MDN is already associated with another person record.", "code": 409}
        ]
    }


def test_external_person_id_is_unique(api):
    api("POST", "/mobiledb/persons/", json={"external_person_id": "p-4"})

    again = api("POST", "/mobiledb/persons/", json={"external_person_id": "p-4"})
    taken_by_update = api("POST", "/mobiledb/persons/", json={"external_person_id": "p-5"})
    key = taken_by_update.json()["person_key"]
    rename = api("PUT", f"/mobiledb/persons/{key}", json={"external_person_id": "p-4"})

    assert again.status_code == 409
    assert rename.status_code == 409
    assert rename.json()["errors"][0]["message"] == (
        "The external_person_id belongs to another person record."
    )


def test_external_person_id_longer_than_128_characters_is_refused(api):
    answer = api("POST", "/mobiledb/persons/", json={"external_person_id": "x" * 129})

    assert answer.status_code == 422
    assert answer.json()["errors"]


def test_update_person_404_and_409_have_no_body(api):
    api(
        "POST",
        "/mobiledb/persons/",
        json={"external_person_id": "p-6", "mobile_phone": {"mdn": MDN}},
    )

    missing = api("PUT", "/mobiledb/persons/external/nobody", json={})
    change = api("PUT", "/mobiledb/persons/external/p-6", json={"mobile_phone": {"mdn": OTHER_MDN}})

    assert (missing.status_code, missing.content) == (404, b"")
    assert (change.status_code, change.content) == (409, b"")


def test_update_person_cannot_give_a_number_to_a_person_without_one(api):
    api("POST", "/mobiledb/persons/", json={"external_person_id": "p-7"})

    answer = api("PUT", "/mobiledb/persons/external/p-7", json={"mobile_phone": {"mdn": MDN}})

    assert answer.status_code == 409


def test_update_person_keeps_the_same_mdn_and_removes_it_with_null(api, vibes_sandbox):
    api(
        "POST",
        "/mobiledb/persons/",
        json={"external_person_id": "p-8", "mobile_phone": {"mdn": MDN}},
    )

    same = api("PUT", "/mobiledb/persons/external/p-8", json={"mobile_phone": {"mdn": MDN}})
    removed = api("PUT", "/mobiledb/persons/external/p-8", json={"mobile_phone": {"mdn": None}})
    reused = api("POST", "/mobiledb/persons/", json={"mobile_phone": {"mdn": MDN}})

    assert (same.status_code, same.content) == (201, b"")
    assert (removed.status_code, removed.content) == (201, b"")
    assert "mobile_phone" not in vibes_sandbox.client().get_person_by_external_id("p-8")
    assert reused.status_code == 201
    assert [p["mdn"] for p in vibes_sandbox.control.persons()] == [None, MDN]


def test_unknown_custom_fields_get_a_422_naming_each(api):
    answer = api(
        "POST",
        "/mobiledb/persons/",
        json={"custom_fields": {"first_name": "Ada", "pet": "cat", "colour": "red"}},
    )

    assert answer.status_code == 422
    assert answer.json() == {
        "errors": [
            {"message": "Unknown custom field: pet", "code": 422},
            {"message": "Unknown custom field: colour", "code": 422},
        ]
    }


def test_a_field_kept_only_in_the_crm_is_unknown_to_the_sandbox(api):
    answer = api("POST", "/mobiledb/persons/", json={"custom_fields": {"internal_score": 3}})

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["message"] == "Unknown custom field: internal_score"


@pytest.mark.parametrize(
    ("fields", "stored"),
    [
        ({"birthday": "1950-12-01"}, {"birthday": "1950-12-01T00:00:00Z"}),
        ({"shoe_size": "9.5"}, {"shoe_size": 9.5}),
        ({"loyalty_member": True}, {"loyalty_member": True}),
        ({"preferred_store": "seattle"}, {"preferred_store": "seattle"}),
        ({"interests": ["hiking", "paddling"]}, {"interests": ["hiking", "paddling"]}),
    ],
)
def test_custom_field_values_by_type(api, fields, stored):
    answer = api("POST", "/mobiledb/persons/", json={"custom_fields": fields})

    assert answer.status_code == 201
    assert answer.json()["custom_fields"] == stored


@pytest.mark.parametrize(
    "fields",
    [
        {"birthday": "next tuesday"},
        {"shoe_size": "big"},
        {"loyalty_member": "maybe"},
        {"preferred_store": "paris"},
        {"interests": ["hiking", "surfing"]},
    ],
)
def test_custom_field_values_of_the_wrong_type_get_422(api, fields):
    answer = api("POST", "/mobiledb/persons/", json={"custom_fields": fields})

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["message"].startswith("Invalid value for custom field")


def test_version_2_takes_and_answers_e164(api):
    created = api("POST", "/mobiledb/persons/", json={"mobile_phone": {"mdn": MDN}})
    national = api("POST", "/mobiledb/persons/", json={"mobile_phone": {"mdn": "2015550142"}})

    assert created.json()["mobile_phone"]["mdn"] == MDN
    assert national.status_code == 422


def test_version_1_takes_and_answers_national_digits_and_refuses_e164(api):
    created = api(
        "POST", "/mobiledb/persons/", json={"mobile_phone": {"mdn": "2015550141"}}, version=None
    )
    e164 = api("POST", "/mobiledb/persons/", json={"mobile_phone": {"mdn": OTHER_MDN}}, version="1")
    as_v2 = api("GET", f"/mobiledb/persons/{created.json()['person_key']}")

    assert created.status_code == 201
    assert created.json()["mobile_phone"]["mdn"] == "2015550141"
    assert e164.status_code == 422
    assert as_v2.json()["mobile_phone"]["mdn"] == MDN


def test_find_by_mdn_refuses_an_unencoded_plus(api):
    api("POST", "/mobiledb/persons/", json={"mobile_phone": {"mdn": MDN}})

    encoded = api("GET", "/mobiledb/persons?mdn=%2B12015550141")
    unencoded = api("GET", "/mobiledb/persons?mdn=+12015550141")

    assert encoded.status_code == 200
    assert unencoded.status_code == 400
    assert "%2B" in unencoded.json()["errors"][0]["message"]


@pytest.mark.parametrize("mdn", ["12345", "+1299555", "+1 201 555 0141", "not a number"])
def test_bad_mdns_in_a_persons_body_get_422(api, mdn):
    answer = api("POST", "/mobiledb/persons/", json={"mobile_phone": {"mdn": mdn}})

    assert answer.status_code == 422
    assert answer.json()["errors"][0]["code"] == 422


def test_find_by_mdn_without_a_match_is_404(api):
    assert api("GET", "/mobiledb/persons?mdn=%2B12015550149").status_code == 404
    assert api("GET", "/mobiledb/persons").status_code == 404


def test_a_body_that_is_not_json_is_400(api):
    answer = api("POST", "/mobiledb/persons/", data=b"{not json")

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["message"] == "The request body is not valid JSON."


@pytest.mark.parametrize(
    "auth", [None, ("demo", "wrong"), ("someone", "demo-password")], ids=["none", "bad", "user"]
)
def test_401_without_the_right_credentials(api, auth):
    answer = api("GET", "/mobiledb/subscription_lists/", auth=auth)

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="Vibes"'
    assert answer.json()["errors"][0]["code"] == 401


def test_403_for_another_company(api):
    answer = api("GET", "/mobiledb/subscription_lists/", company_key="other")

    assert answer.status_code == 403
    assert answer.json()["errors"]


def test_every_4xx_but_the_documented_bodiless_ones_carries_the_envelope(api, vibes_sandbox):
    api("POST", "/mobiledb/persons/", json={"external_person_id": "p-9"})
    api("POST", "/mobiledb/persons/", json={"external_person_id": "p-9"})
    api("GET", "/mobiledb/persons/nobody")
    api("GET", "/mobiledb/persons?mdn=12")
    api("GET", "/mobiledb/subscription_lists/", auth=None)
    api("DELETE", "/mobiledb/persons/nobody/subscriptions/1001")
    api("POST", "/campaigns/acquisition/AC1001/participants", json={"mobile_phone": {}})
    api("GET", "/nowhere")
    api("PUT", "/mobiledb/persons/nobody", json={})

    calls = vibes_sandbox.control.calls()
    failures = [call for call in calls if call["status"] >= 400]
    assert len(failures) == 8
    for call in failures:
        if call["method"] == "PUT":
            assert call["response"] is None
            continue
        errors = call["response"]["errors"]
        assert errors and all(set(entry) == {"message", "code"} for entry in errors)
