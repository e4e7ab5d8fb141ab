"""The error hierarchy: which status raises what, and what an error carries and prints."""

from __future__ import annotations

import pytest

from vibes_integration.errors import (
    AuthenticationFailed,
    BadRequest,
    Conflict,
    NotFound,
    RateLimited,
    Retryable,
    TransientError,
    Unprocessable,
    VibesError,
    error_class_for,
)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, BadRequest),
        (401, AuthenticationFailed),
        (403, AuthenticationFailed),
        (404, NotFound),
        (409, Conflict),
        (422, Unprocessable),
        (429, RateLimited),
        (500, TransientError),
        (502, TransientError),
        (503, TransientError),
        (418, VibesError),
    ],
)
def test_status_to_error_class(status, error_class):
    assert error_class_for(status) is error_class


def test_retryable_errors_share_a_base():
    assert issubclass(RateLimited, Retryable)
    assert issubclass(TransientError, Retryable)
    for permanent in (BadRequest, AuthenticationFailed, NotFound, Conflict, Unprocessable):
        assert not issubclass(permanent, Retryable)
        assert issubclass(permanent, VibesError)


def test_str_shows_status_messages_and_codes_with_mdns_masked():
    error = Unprocessable(
        status=422,
        errors=[
            {"message": "+12015550199 replied No before", "code": "MDNHASCONFIRMATIONBLOCK"},
            {"message": "Unknown custom field: pet", "code": 422},
        ],
        method="POST",
        path="/companies/demo/campaigns/acquisition/AC1/participants",
    )

    text = str(error)
    assert text.startswith("POST /companies/demo/campaigns/acquisition/AC1/participants HTTP 422")
    assert "+1•••••0199 replied No before [MDNHASCONFIRMATIONBLOCK]" in text
    assert "Unknown custom field: pet [422]" in text
    assert "+12015550199" not in text
    assert error.codes == ["MDNHASCONFIRMATIONBLOCK", 422]


def test_str_without_a_body():
    assert str(NotFound("Not Found", status=404)) == "HTTP 404: Not Found"
    assert str(TransientError("timed out (ReadTimeout)")) == "no answer: timed out (ReadTimeout)"


def test_wrong_password_is_authentication_failed(vibes_sandbox):
    client = vibes_sandbox.client(password="wrong")

    with pytest.raises(AuthenticationFailed) as caught:
        client.list_subscription_lists()

    assert caught.value.status == 401
    assert caught.value.messages == ["Authentication failed: check the username and password."]


def test_another_company_key_is_authentication_failed(vibes_sandbox):
    client = vibes_sandbox.client(company_key="someone-else")

    with pytest.raises(AuthenticationFailed) as caught:
        client.list_subscription_lists()

    assert caught.value.status == 403


def test_past_the_rate_limit_is_rate_limited(vibes_sandbox):
    vibes_sandbox.control.set_faults(rate_limit=2)
    client = vibes_sandbox.client()
    client.list_subscription_lists()
    client.list_subscription_lists()

    with pytest.raises(RateLimited) as caught:
        client.list_subscription_lists()

    assert caught.value.status == 429
    assert caught.value.messages


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_transient(vibes_sandbox, status):
    vibes_sandbox.control.set_faults(fail_next=[status])
    client = vibes_sandbox.client()

    with pytest.raises(TransientError) as caught:
        client.get_subscription_list("1001")

    assert caught.value.status == status
    assert client.get_subscription_list("1001")["id"] == "1001"


def test_url_encoded_numbers_are_masked_too():
    from vibes_integration.errors import mask_mdns_in

    assert mask_mdns_in("GET /persons?mdn=%2B12015550199 failed") == (
        "GET /persons?mdn=+1•••••0199 failed"
    )
