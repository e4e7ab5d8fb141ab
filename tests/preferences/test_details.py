import re

import pytest

from crm import signals
from crm.choices import Source


def _post_details(client, path, **overrides):
    data = {
        "action": "details",
        "details-first_name": "Ada",
        "details-last_name": "Lovelace",
        "details-email": "ada@example.com",
        "details-cf_nickname": "Countess",
        "details-cf_shoe_size": "",
        "details-cf_birthday": "",
        "details-cf_newsletter": "",
        "details-cf_favorite_activity": "",
        "details-cf_interests": ["camping"],
    }
    data.update(overrides)
    return client.post(path, {k: v for k, v in data.items() if v is not None})


@pytest.fixture
def person_changes():
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs)

    signals.person_changed.connect(receiver)
    yield seen
    signals.person_changed.disconnect(receiver)


def test_saving_every_field_type_goes_through_the_service(client, subscriber, url, person_changes):
    response = _post_details(
        client,
        url(subscriber),
        **{
            "details-first_name": "  Augusta Ada ",
            "details-email": "ada@analytical.example",
            "details-cf_nickname": "Enchantress of numbers",
            "details-cf_shoe_size": "9.5",
            "details-cf_birthday": "1815-12-10",
            "details-cf_newsletter": "yes",
            "details-cf_favorite_activity": "climbing",
            "details-cf_interests": ["running", "snow"],
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == url(subscriber)
    subscriber.refresh_from_db()
    assert subscriber.first_name == "Augusta Ada"
    assert subscriber.email == "ada@analytical.example"
    assert subscriber.custom_fields == {
        "nickname": "Enchantress of numbers",
        "loyalty_tier": "Gold",
        "internal_score": 7,
        "shoe_size": 9.5,
        "birthday": "1815-12-10",
        "newsletter": True,
        "favorite_activity": "climbing",
        "interests": ["running", "snow"],
    }
    [change] = person_changes
    assert change["source"] == Source.PREFERENCE_CENTER
    assert "custom_fields.shoe_size" in change["changed_fields"]
    assert "custom_fields.loyalty_tier" not in change["changed_fields"]

    page = client.get(url(subscriber)).content.decode()
    saved = re.search(r"Saved\. You changed: ([^<]*)\.", page)
    assert saved, page
    assert saved.group(1) == (
        "Also send me the printed catalogue, Birthday, Email, Favorite activity, First name, "
        "Interests, Nickname, Shoe size"
    )
    assert 'value="9.5"' in page
    assert 'value="1815-12-10"' in page


def test_clearing_values_and_whole_numbers(client, subscriber, url):
    _post_details(
        client,
        url(subscriber),
        **{"details-cf_nickname": "", "details-cf_interests": None, "details-cf_shoe_size": "10"},
    )
    subscriber.refresh_from_db()
    assert "nickname" not in subscriber.custom_fields
    assert "interests" not in subscriber.custom_fields
    assert subscriber.custom_fields["shoe_size"] == 10
    _post_details(client, url(subscriber), **{"details-cf_newsletter": "no"})
    subscriber.refresh_from_db()
    assert subscriber.custom_fields["newsletter"] is False


def test_saving_without_changes_says_so(client, subscriber, url, person_changes):
    response = _post_details(client, url(subscriber))
    assert response.status_code == 303
    assert "Nothing to save: no details changed." in client.get(url(subscriber)).content.decode()
    assert person_changes == []


def test_fields_subscribers_cannot_edit_or_see_are_left_alone(client, subscriber, url):
    _post_details(
        client,
        url(subscriber),
        **{"details-cf_loyalty_tier": "Platinum", "details-cf_internal_score": "99"},
    )
    subscriber.refresh_from_db()
    assert subscriber.custom_fields["loyalty_tier"] == "Gold"
    assert subscriber.custom_fields["internal_score"] == 7


TYPED_FIELDS = {
    "details-email",
    "details-first_name",
    "details-cf_shoe_size",
    "details-cf_birthday",
}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("details-email", "ada@", "Enter an email address like name@example.com."),
        ("details-first_name", "A" * 151, "Use at most 150 characters; you typed 151."),
        ("details-cf_nickname", "x" * 1001, "Use at most 1000 characters; you typed 1001."),
        ("details-cf_shoe_size", "nine and a half", "Enter a number using digits only, like 3."),
        ("details-cf_shoe_size", "NaN", "Enter a number using digits only, like 3."),
        ("details-cf_birthday", "10/12/1815", "Enter a date as YYYY-MM-DD, like 1990-04-25."),
        ("details-cf_birthday", "1815-02-30", "Enter a date as YYYY-MM-DD, like 1990-04-25."),
        ("details-cf_newsletter", "maybe", "Choose yes or no."),
        ("details-cf_favorite_activity", "skydiving", "Choose one of the options shown."),
        ("details-cf_interests", ["camping", "golf"], "Choose one of the options shown."),
    ],
)
def test_an_invalid_value_is_shown_next_to_its_field_and_kept(
    client, subscriber, url, person_changes, field, value, message
):
    response = _post_details(
        client, url(subscriber), **{field: value, "details-last_name": "Byron"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    error_id = f"id_{field}_error"
    block = re.search(rf'<div class="field__error" id="{error_id}">(.*?)</div>', page, re.S)
    assert block, f"no error block {error_id}"
    assert message in block.group(1)
    # The control points at its error, and what was typed is still there.
    described = re.findall(rf'aria-describedby="[^"]*{error_id}[^"]*"', page)
    assert described
    assert 'aria-invalid="true"' in page
    if field in TYPED_FIELDS and len(value) < 200:
        assert f'value="{value}"' in page
    assert 'value="Byron"' in page
    # The error summary links to the field.
    assert "data-error-summary" in page
    assert f'href="#id_{field}' in page
    subscriber.refresh_from_db()
    assert subscriber.last_name == "Lovelace"
    assert person_changes == []


def test_a_required_custom_field_must_be_filled(client, subscriber, url):
    from tests.fixtures.builders import make_custom_field

    make_custom_field(key="zip", label="ZIP code", field_type="text", required=True)
    page = _post_details(client, url(subscriber), **{"details-cf_zip": ""}).content.decode()
    block = re.search(r'id="id_details-cf_zip_error">(.*?)</div>', page, re.S)
    assert block and "Fill in ZIP code." in block.group(1)
    assert re.search(r'<input[^>]*name="details-cf_zip"[^>]*required', page)


def test_an_option_removed_after_the_page_was_shown_is_refused(client, subscriber, url, catalogue):
    field = catalogue.fields["favorite_activity"]
    field.options = [o for o in field.options if o["key"] != "paddling"]
    field.save()
    page = _post_details(
        client, url(subscriber), **{"details-cf_favorite_activity": "paddling"}
    ).content.decode()
    assert "Choose one of the options shown." in page


@pytest.mark.parametrize(
    ("definition", "typed", "message"),
    [
        (
            {
                "key": "household",
                "label": "Household size",
                "field_type": "number",
                "min_value": 1,
                "max_value": 20,
                "whole_numbers_only": True,
            },
            "-3",
            "Enter a whole number from 1 to 20, like 1.",
        ),
        (
            {
                "key": "household",
                "label": "Household size",
                "field_type": "number",
                "min_value": 1,
                "max_value": 20,
                "whole_numbers_only": True,
            },
            "2.5",
            "Enter a whole number from 1 to 20, like 1.",
        ),
        (
            {
                "key": "zip",
                "label": "ZIP code",
                "field_type": "text",
                "min_length": 5,
                "max_length": 10,
            },
            "9" * 1000,
            "Use at most 10 characters; you typed 1000.",
        ),
        (
            {
                "key": "zip",
                "label": "ZIP code",
                "field_type": "text",
                "min_length": 5,
                "max_length": 10,
            },
            "941",
            "Use at least 5 characters; you typed 3.",
        ),
    ],
)
def test_limits_come_from_the_custom_fields_definition(
    client, subscriber, url, person_changes, definition, typed, message
):
    from tests.fixtures.builders import make_custom_field

    make_custom_field(**definition)
    field = f"details-cf_{definition['key']}"
    page = _post_details(client, url(subscriber), **{field: typed}).content.decode()
    block = re.search(rf'id="id_{field}_error">(.*?)</div>', page, re.S)
    assert block and message in block.group(1)
    assert "Ensure this value" not in page
    subscriber.refresh_from_db()
    assert definition["key"] not in subscriber.custom_fields
    assert person_changes == []


def test_a_value_inside_the_limits_is_saved(client, subscriber, url):
    from tests.fixtures.builders import make_custom_field

    make_custom_field(
        key="household", label="Household size", field_type="number", min_value=1, max_value=20
    )
    response = _post_details(client, url(subscriber), **{"details-cf_household": "4"})
    assert response.status_code == 303
    subscriber.refresh_from_db()
    assert subscriber.custom_fields["household"] == 4


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"field_type": "text", "min_value": 1}, "min_value"),
        ({"field_type": "number", "max_length": 5}, "max_length"),
        ({"field_type": "number", "min_value": 5, "max_value": 1}, "max_value"),
        ({"field_type": "text", "max_length": 5000}, "max_length"),
        ({"field_type": "text", "min_length": 8, "max_length": 5}, "max_length"),
    ],
)
def test_limits_that_do_not_fit_the_field_are_refused_in_the_admin_model(definition, field, db):
    from django.core.exceptions import ValidationError

    from tests.fixtures.builders import make_custom_field

    with pytest.raises(ValidationError) as caught:
        make_custom_field(**definition)
    assert field in caught.value.message_dict
