"""Every callback type and every spelling Vibes uses become one typed event."""

from __future__ import annotations

import datetime

import pytest

from crm.phone import vibes_mdn
from tests.fixtures.callbacks import callback_body
from vibes_integration.callbacks.events import (
    CallbackType,
    ParticipantEvent,
    ParticipantStatus,
    PersonEvent,
    SubscriptionEvent,
    SubscriptionListEvent,
    UnknownEvent,
)
from vibes_integration.callbacks.parsing import (
    CallbackParseError,
    parse_body,
    parse_payload,
    parse_timestamp,
    peek,
)

UTC = datetime.UTC


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2017-02-15T15:42:23Z", datetime.datetime(2017, 2, 15, 15, 42, 23, tzinfo=UTC)),
        ("2017-02-18T15:34:52+0000", datetime.datetime(2017, 2, 18, 15, 34, 52, tzinfo=UTC)),
        ("2017-01-15T14:30Z", datetime.datetime(2017, 1, 15, 14, 30, tzinfo=UTC)),
        ("2017-01-15T09:30-0500", datetime.datetime(2017, 1, 15, 14, 30, tzinfo=UTC)),
        ("2017-01-15T14:30:00.250+00:00", datetime.datetime(2017, 1, 15, 14, 30, 0, 250000, UTC)),
        ("2017-01-15 14:30:00", datetime.datetime(2017, 1, 15, 14, 30, tzinfo=UTC)),
        ("2017-01-15", datetime.datetime(2017, 1, 15, tzinfo=UTC)),
        (1484490600, datetime.datetime(2017, 1, 15, 14, 30, tzinfo=UTC)),
        (1484490600000, datetime.datetime(2017, 1, 15, 14, 30, tzinfo=UTC)),
    ],
)
def test_every_timestamp_shape_becomes_an_aware_utc_datetime(raw, expected):
    parsed = parse_timestamp(raw)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("raw", ["yesterday", "15/01/2017", True, "2017-13-45T00:00:00Z"])
def test_a_timestamp_vibes_never_sends_is_a_parse_error(raw):
    with pytest.raises(CallbackParseError):
        parse_timestamp(raw, "event_date")


@pytest.mark.parametrize("raw", [None, ""])
def test_an_absent_timestamp_is_none(raw):
    assert parse_timestamp(raw) is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+12015550142", "+12015550142"),
        ("2015550142", "+12015550142"),
        ("(201) 555-0142", "+12015550142"),
        (2015550142, "+12015550142"),
        ("+447700900123", "+447700900123"),
        # Numbers Vibes holds that the numbering plan does not: recorded, not refused.
        ("+12995551234", "+12995551234"),
        ("+1999999999", "+1999999999"),
        ("2995551234", "+12995551234"),
        ("12", None),
        ("not a number", None),
        (None, None),
        # Any JSON value may stand where the number should.
        (2015550142.0, "+12015550142"),
        (True, None),
        ({"mdn": "+12015550142"}, None),
        (["+12015550142"], None),
    ],
)
def test_e164_and_version_1_national_numbers(raw, expected):
    assert vibes_mdn(raw) == expected


def test_subscription_added_as_in_vibes_examples():
    event = parse_payload(callback_body("subscription_added"))

    assert isinstance(event, SubscriptionEvent)
    assert event.envelope.callback_type == CallbackType.SUBSCRIPTION_ADDED
    assert event.envelope.event_id == "evt-sub-added-0001"
    assert event.envelope.delivery_attempt == 1
    assert event.envelope.event_date == datetime.datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
    assert event.person.person_key == "PK-ALICE-01"
    assert event.person.person_id == "50101"  # ``id``: the deprecated numeric id
    assert event.person.external_person_id == "crm-alice-01"
    assert event.list_id == "1001"
    assert event.opt_in_date == datetime.datetime(2026, 3, 2, 10, 14, 58, tzinfo=UTC)
    assert event.acquisition_campaign_id == "KW-DEALS"


def test_subscription_removed_keeps_reason_and_dates():
    event = parse_payload(callback_body("subscription_removed_stop"))

    assert event.envelope.callback_type == CallbackType.SUBSCRIPTION_REMOVED
    assert event.person.person_key == "PK-ALICE-01"
    assert event.person.external_person_id == "crm-alice-01"
    assert event.opt_out_reason == "user_opt_out"
    assert event.opt_out_date == datetime.datetime(2026, 3, 9, 18, 40, 11, tzinfo=UTC)


@pytest.mark.parametrize(
    ("id_field", "kind"),
    [("person_key", "person_key"), ("id", "person_id"), ("person_id", "person_id")],
)
@pytest.mark.parametrize("external_field", ["external_id", "external_person_id"])
def test_every_spelling_of_the_person_ids(id_field, kind, external_field):
    body = callback_body("subscription_added")
    body["subscription"]["person"] = {id_field: "PK-9", external_field: "crm-9"}

    event = parse_payload(body)

    # ``id`` and ``person_id`` are Vibes' deprecated numeric id, never the person key.
    assert getattr(event.person, kind) == "PK-9"
    assert event.person.person_key == ("PK-9" if kind == "person_key" else None)
    assert event.person.external_person_id == "crm-9"


def test_a_numeric_person_id_becomes_text():
    event = parse_payload(callback_body("person_updated_version1"))
    assert event.person.person_id == "908172"
    assert event.person.person_key is None


@pytest.mark.parametrize("field", ["callback_type", "event_type"])
def test_the_type_from_either_field(field):
    body = callback_body("subscription_added")
    del body["callback_type"]
    del body["event_type"]
    body[field] = "  Subscription_Added "

    assert parse_payload(body).envelope.callback_type == CallbackType.SUBSCRIPTION_ADDED


def test_person_added_with_every_custom_field_shape():
    event = parse_payload(callback_body("person_added"))

    assert isinstance(event, PersonEvent)
    assert event.person.person_key == "PK-BRUNO-02"
    assert event.person.external_person_id == "crm-bruno-02"
    assert event.person.mdn == "+12015550142"
    assert event.mobile_phone_given
    assert event.carrier_code == "VZW"
    assert event.custom_fields["interests"] == ["hiking", "paddling"]
    assert event.custom_fields["loyalty_member"] is True
    assert event.custom_fields["birthday"] == "1988-07-14T00:00:00Z"
    assert event.updated_at == datetime.datetime(2026, 3, 2, 10, 14, 59, tzinfo=UTC)


def test_person_updated_from_a_version_1_registration():
    event = parse_payload(callback_body("person_updated_version1"))

    assert event.envelope.callback_type == CallbackType.PERSON_UPDATED
    assert event.person.external_person_id == "crm-carla-03"
    assert event.person.mdn == "+12015550143"
    assert event.raw_mdn == "2015550143"


def test_a_person_without_a_number_and_one_whose_number_was_removed():
    body = callback_body("person_added")
    del body["person"]["mobile_phone"]
    assert parse_payload(body).mobile_phone_given is False

    body["person"]["mobile_phone"] = None
    event = parse_payload(body)
    assert event.mobile_phone_given is True
    assert event.person.mdn is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([{"id": "4", "name": "Hiking", "option_key": "hiking"}], ["hiking"]),
        (["hiking", "climbing", "hiking"], ["hiking", "climbing"]),
        ([{"id": "4", "name": "Hiking"}], ["Hiking"]),
        ({"option_key": "seattle", "name": "Seattle"}, "seattle"),
        ("98101", "98101"),
        (None, None),
    ],
)
def test_multi_select_and_other_custom_field_values(value, expected):
    body = callback_body("person_added")
    body["person"]["custom_fields"] = {"field": value}
    assert parse_payload(body).custom_fields["field"] == expected


def test_ack_participant_added_and_changed():
    added = parse_payload(callback_body("ack_participant_added_pending"))
    confirmed = parse_payload(callback_body("ack_participant_changed_confirmed"))
    rejected = parse_payload(callback_body("ack_participant_changed_rejected"))

    assert isinstance(added, ParticipantEvent)
    assert added.status == ParticipantStatus.PENDING
    assert added.campaign_id == "AC1001"
    assert added.person.mdn == "+12015550144"
    assert added.person.person_key == "PK-DINA-04"
    assert added.expire_date == datetime.datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
    assert confirmed.status == ParticipantStatus.CONFIRMED
    assert rejected.status == ParticipantStatus.REJECTED
    assert rejected.person.person_key == "PK-DINA-04"


def test_an_acquisition_campaign_named_by_api_key_and_a_person_id_on_the_participant():
    body = callback_body("ack_participant_changed_confirmed")
    body["participant"]["acquisition_campaign"] = {"api_key": "AC1002"}
    body["participant"]["person_key"] = "PK-7"
    body["participant"]["person_id"] = "707"
    del body["participant"]["person"]

    event = parse_payload(body)

    assert event.campaign_id == "AC1002"
    assert event.person.person_key == "PK-7"
    assert event.person.person_id == "707"


def test_subscription_list_added_and_updated():
    added = parse_payload(callback_body("subscription_list_added"))
    updated = parse_payload(callback_body("subscription_list_updated"))

    assert isinstance(added, SubscriptionListEvent)
    assert (added.list_id, added.name) == ("2001", "Trail club")
    assert updated.envelope.callback_type == CallbackType.SUBSCRIPTION_LIST_UPDATED
    assert updated.name == "Trail club (weekly)"


def test_an_unknown_type_is_kept_as_unknown():
    event = parse_payload(callback_body("wallet_item_install"))
    assert isinstance(event, UnknownEvent)
    assert event.envelope.callback_type == CallbackType.UNKNOWN
    assert event.envelope.remote_type == "wallet_item_install"


def test_unknown_fields_are_ignored():
    body = callback_body("subscription_added", brand_new_field={"x": 1})
    body["subscription"]["another_new_field"] = [1, 2]
    body["subscription"]["person"]["loyalty_tier"] = "gold"

    assert parse_payload(body).list_id == "1001"


@pytest.mark.parametrize(
    ("name", "breakage"),
    [
        ("subscription_added", lambda b: b["subscription"].pop("subscription_list")),
        ("subscription_added", lambda b: b["subscription"].update(person={})),
        ("person_added", lambda b: b.pop("person")),
        ("ack_participant_added_pending", lambda b: b["participant"].pop("acquisition_campaign")),
        ("subscription_list_added", lambda b: b["subscription_list"].pop("id")),
        ("subscription_added", lambda b: b.update(event_date="last tuesday")),
    ],
    ids=["no-list", "no-person", "no-person-object", "no-campaign", "no-list-id", "bad-date"],
)
def test_a_known_type_in_an_unknown_shape_is_a_parse_error(name, breakage):
    body = callback_body(name)
    breakage(body)
    with pytest.raises(CallbackParseError):
        parse_payload(body)


def test_parse_body_refuses_what_is_not_a_json_object():
    with pytest.raises(CallbackParseError):
        parse_body("not json")
    with pytest.raises(CallbackParseError):
        parse_body("[]")


def test_peek_reads_only_the_id_type_and_attempt():
    body = callback_body("subscription_removed_stop", delivery_attempt="3")
    import json

    assert peek(json.dumps(body).encode()) == (
        "evt-sub-removed-0001",
        "subscription_removed",
        3,
    )
    assert peek(b"garbage") == (None, "", None)
    assert peek(b'{"event_type": "person_added", "delivery_attempt": "-1"}') == (
        None,
        "person_added",
        None,
    )


def test_a_top_level_subscription_list_gives_an_acquisition_event_its_list():
    body = callback_body("ack_participant_changed_confirmed")
    body["subscription_list"] = {"id": "1002"}

    event = parse_payload(body)

    assert event.list_id == "1002"
    assert event.campaign_id == "AC1001"


def test_company_participant_callbacks_parse_as_acquisition_events_or_say_why_not():
    body = callback_body(
        "ack_participant_changed_confirmed", callback_type="company_participant_added"
    )
    assert parse_payload(body).campaign_id == "AC1001"

    body["participant"].pop("status")
    ignored = parse_payload(body)
    assert ignored.envelope.callback_type == "company_participant_added"
    assert "no status" in ignored.reason
