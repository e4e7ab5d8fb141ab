import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from crm.models import ConsentEvent, OptInRequest, SubscriptionList
from prefcenter.conf import setting
from prefcenter.preferences.selectors import disclosure_digest, list_disclosure
from prefcenter.settings_registry.parsers import Rate, rate_limit
from tests.fixtures.builders import make_person


def _join(client, path, lists, mdn, address="203.0.113.9"):
    data = {"action": "opt_in", "optin-mdn": mdn, "optin-lists": lists}
    for subscription_list in SubscriptionList.objects.all():
        data[f"disclosure_{subscription_list.list_id}"] = disclosure_digest(
            list_disclosure(subscription_list)
        )
    return client.post(path, data, REMOTE_ADDR=address)


LIMITS_OFF = {
    "PREFCENTER_OPT_IN_LIMIT_PER_PERSON": "off",
    "PREFCENTER_OPT_IN_LIMIT_PER_NUMBER": "off",
    "PREFCENTER_OPT_IN_LIMIT_PER_ADDRESS": "off",
}


def test_opt_ins_per_person_are_limited(client, newcomer, url):
    with override_settings(**{**LIMITS_OFF, "PREFCENTER_OPT_IN_LIMIT_PER_PERSON": "2/1h"}):
        assert _join(client, url(newcomer), ["deals"], "2015550142").status_code == 303
        assert _join(client, url(newcomer), ["arrivals"], "2015550143").status_code == 303
        response = _join(client, url(newcomer), ["events"], "2015550144")
    assert response.status_code == 429
    page = response.content.decode()
    assert "We have sent as many confirmation texts as we can for now." in page
    assert "Please try again in 1 hour." in page
    assert 'value="2015550144"' in page
    assert OptInRequest.objects.count() == 2
    assert ConsentEvent.objects.count() == 2


def test_one_request_for_several_lists_counts_one_text_per_list(client, newcomer, url):
    with override_settings(**{**LIMITS_OFF, "PREFCENTER_OPT_IN_LIMIT_PER_PERSON": "2/1h"}):
        response = _join(client, url(newcomer), ["deals", "arrivals", "events"], "2015550142")
    assert response.status_code == 429
    assert OptInRequest.objects.count() == 0


def test_opt_ins_per_number_are_limited_across_persons(client, catalogue, url):
    people = [make_person(first_name=f"P{i}") for i in range(3)]
    with override_settings(**{**LIMITS_OFF, "PREFCENTER_OPT_IN_LIMIT_PER_NUMBER": "2/1d"}):
        for person in people[:2]:
            assert _join(client, url(person), ["deals"], "2015550199").status_code == 303
        response = _join(client, url(people[2]), ["deals"], "(201) 555-0199")
        assert response.status_code == 429
        assert "This number has been sent as many confirmation texts as we allow." in (
            response.content.decode()
        )
        assert "1 day" in response.content.decode()
        # Another number is still fine for that person.
        assert _join(client, url(people[2]), ["deals"], "2015550198").status_code == 303


def test_opt_ins_per_client_address_are_limited(client, catalogue, url):
    people = [make_person(first_name=f"P{i}") for i in range(3)]
    with override_settings(**{**LIMITS_OFF, "PREFCENTER_OPT_IN_LIMIT_PER_ADDRESS": "2/30m"}):
        for i, person in enumerate(people[:2]):
            response = _join(client, url(person), ["deals"], f"20155501{50 + i}", "198.51.100.1")
            assert response.status_code == 303
        response = _join(client, url(people[2]), ["deals"], "2015550160", "198.51.100.1")
        assert response.status_code == 429
        assert "Please try again in 30 minutes." in response.content.decode()
        response = _join(client, url(people[2]), ["deals"], "2015550160", "198.51.100.2")
        assert response.status_code == 303


def test_default_limits_stop_a_flood(client, newcomer, url):
    codes = [
        _join(client, url(newcomer), ["deals"], f"20155501{10 + i}").status_code for i in range(12)
    ]
    assert codes == [303] * 10 + [429] * 2


def test_failed_validation_sends_nothing_and_counts_nothing(client, newcomer, url):
    with override_settings(**{**LIMITS_OFF, "PREFCENTER_OPT_IN_LIMIT_PER_PERSON": "1/1h"}):
        for _ in range(3):
            assert _join(client, url(newcomer), ["deals"], "not a number").status_code == 200
        assert _join(client, url(newcomer), ["deals"], "2015550142").status_code == 303


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10/1h", Rate(10, 3600)),
        ("3 / 15m", Rate(3, 900)),
        ("50/d", Rate(50, 86400)),
        ("5/30s", Rate(5, 30)),
        ("off", None),
        (Rate(1, 1), Rate(1, 1)),
    ],
)
def test_rate_settings_are_parsed(raw, expected):
    assert rate_limit(raw) == expected


@pytest.mark.parametrize("raw", ["ten per hour", "10", "-1/1h", "10/0h", "10/1w", "0/1h", "0"])
def test_bad_rate_settings_name_the_setting(raw):
    with (
        pytest.raises(ImproperlyConfigured) as excinfo,
        override_settings(PREFCENTER_OPT_IN_LIMIT_PER_PERSON=raw),
    ):
        setting("PREFCENTER_OPT_IN_LIMIT_PER_PERSON")
    assert "PREFCENTER_OPT_IN_LIMIT_PER_PERSON" in str(excinfo.value)
    assert "10/1h" in str(excinfo.value)


def test_a_bad_limit_setting_fails_loudly_not_open(client, newcomer, url):
    with (
        override_settings(PREFCENTER_OPT_IN_LIMIT_PER_PERSON="lots"),
        pytest.raises(ImproperlyConfigured),
    ):
        _join(client, url(newcomer), ["deals"], "2015550142")
    assert OptInRequest.objects.count() == 0
