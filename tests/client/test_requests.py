"""What every call sends: auth, headers, encoding, timeouts, one session, masked logs."""

from __future__ import annotations

import base64
import logging

import pytest
import requests

from vibes_integration import session as session_module
from vibes_integration.client import VibesClient
from vibes_integration.errors import NotFound, TransientError
from vibes_integration.session import get_session

MDN = "+12015550101"


def test_every_call_carries_basic_auth_json_content_type_and_api_version_2(vibes_sandbox):
    client = vibes_sandbox.client()
    client.add_person({"external_person_id": "hdr-1"})
    client.list_subscription_lists()
    client.find_person_by_mdn(MDN)

    calls = vibes_sandbox.control.calls()
    assert len(calls) == 3
    expected_auth = "Basic " + base64.b64encode(b"demo:demo-password").decode()
    for call in calls:
        assert call["headers"]["Authorization"] == expected_auth
        assert call["headers"]["Content-Type"] == "application/json"
        assert call["headers"]["X-API-Version"] == "2"
    assert calls[0]["method"] == "POST"
    assert calls[0]["path"] == "/companies/demo/mobiledb/persons/"
    assert calls[0]["body"] == {"external_person_id": "hdr-1"}


def test_the_plus_of_an_e164_number_travels_as_percent_2b(vibes_sandbox):
    client = vibes_sandbox.client()
    client.add_person({"mobile_phone": {"mdn": MDN}})

    assert client.find_person_by_mdn(MDN)["mobile_phone"]["mdn"] == MDN
    call = vibes_sandbox.control.calls()[-1]
    assert call["query"] == "mdn=%2B12015550101"
    assert call["status"] == 200


def test_path_segments_are_percent_encoded(vibes_sandbox):
    client = vibes_sandbox.client()
    client.add_person({"external_person_id": "crm/42+a b"})

    person = client.get_person_by_external_id("crm/42+a b")

    assert person["external_person_id"] == "crm/42+a b"
    assert vibes_sandbox.control.calls()[-1]["path"] == (
        "/companies/demo/mobiledb/persons/external/crm%2F42%2Ba%20b"
    )


def test_throttle_runs_before_every_request(vibes_sandbox):
    seen_calls = []

    def throttle():
        seen_calls.append(len(vibes_sandbox.control.calls()))

    client = vibes_sandbox.client(throttle=throttle)
    client.list_subscription_lists()
    client.get_subscription_list("1001")
    with pytest.raises(NotFound):
        client.get_person("nobody")

    # Called once per request, each time before the sandbox logged that request.
    assert seen_calls == [0, 1, 2]


def test_from_settings_reads_the_settings_at_call_time(vibes_sandbox, settings):
    settings.VIBES_CONNECT_TIMEOUT = 1.5
    settings.VIBES_READ_TIMEOUT = 4.0
    throttle_calls = []

    client = VibesClient.from_settings(throttle=lambda: throttle_calls.append(1))

    assert client.base_url == vibes_sandbox.url
    assert client.timeout == (1.5, 4.0)
    assert client.list_subscription_lists()[0]["id"] == "1001"
    assert throttle_calls == [1]


def test_one_session_per_process_shared_by_all_clients(vibes_sandbox):
    first = vibes_sandbox.client()
    second = vibes_sandbox.client()

    assert first.session is second.session is get_session()
    assert isinstance(get_session(), requests.Session)


def test_a_session_per_pool_size_sized_for_its_threads():
    assert get_session(4) is get_session() is get_session(10)
    wide = get_session(32)

    assert wide is not get_session()
    assert wide.get_adapter("https://vibes.example.com")._pool_maxsize == 32


def test_from_settings_takes_the_session_for_its_pool_size(vibes_sandbox):
    assert VibesClient.from_settings(pool_size=24).session is get_session(24)


def test_a_client_for_another_company_shares_all_but_the_company_key(vibes_sandbox):
    client = vibes_sandbox.client(read_timeout=7.0, throttle=print)
    other = client.for_company("other-company")

    assert client.for_company(client.company_key) is client
    assert other.company_key == "other-company"
    assert client.company_key == vibes_sandbox.company_key
    assert (other.base_url, other.auth, other.timeout, other.throttle, other.session) == (
        client.base_url,
        client.auth,
        client.timeout,
        client.throttle,
        client.session,
    )


def test_a_new_session_after_a_fork(monkeypatch):
    before = get_session()
    monkeypatch.setattr(session_module.os, "getpid", lambda: -1)

    assert get_session() is not before


def test_read_timeout_is_a_transient_error(vibes_sandbox):
    vibes_sandbox.control.set_faults(api_delay_ms=600)
    client = vibes_sandbox.client(read_timeout=0.2)

    with pytest.raises(TransientError) as caught:
        client.list_subscription_lists()

    assert caught.value.status is None
    assert "timed out" in str(caught.value)


def test_connection_refused_is_a_transient_error(free_tcp_port):
    client = VibesClient(
        base_url=f"http://127.0.0.1:{free_tcp_port}",
        company_key="demo",
        username="demo",
        password="demo-password",
        connect_timeout=0.5,
    )

    with pytest.raises(TransientError) as caught:
        client.list_subscription_lists()

    assert caught.value.status is None
    assert "connection failed" in str(caught.value)


def test_logs_mask_the_mdn(vibes_sandbox, caplog):
    client = vibes_sandbox.client()
    with caplog.at_level(logging.INFO, logger="vibes_integration.client"):
        client.find_person_by_mdn(MDN)

    text = caplog.text
    assert "0101" in text
    assert MDN not in text
    assert "2015550101" not in text
    assert "+1•••••0101" in text


def test_unknown_response_fields_are_ignored(vibes_sandbox):
    vibes_sandbox.control.set_faults(extra_fields=True)
    client = vibes_sandbox.client()

    added = client.add_person({"external_person_id": "x-1", "mobile_phone": {"mdn": MDN}})
    participant = client.add_participant("AC1001", mdn="+12015550102")

    assert added.created is True
    assert "sandbox_future_field" in added.person
    assert added.person["mobile_phone"]["mdn"] == MDN
    assert participant.status == "PENDING"
    assert participant.person_key
    assert client.list_subscription_lists()[0]["id"] == "1001"


class RecordingSession(requests.Session):
    """A real session that also notes the options of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[dict] = []

    def request(self, method, url, **kwargs):
        self.sent.append({"method": method, "url": url, **kwargs})
        return super().request(method, url, **kwargs)


def test_every_method_sends_a_connect_and_a_read_timeout(vibes_sandbox, callback_receiver):
    session = RecordingSession()
    client = vibes_sandbox.client(session=session, connect_timeout=2.5, read_timeout=7.0)
    mdn = "+12015550109"

    person = client.add_person({"external_person_id": "t-1", "mobile_phone": {"mdn": mdn}}).person
    key = person["person_key"]
    client.get_person(key)
    client.get_person_by_external_id("t-1")
    client.find_person_by_mdn(mdn)
    client.update_person(key, {})
    client.update_person_by_external_id("t-1", {})
    vibes_sandbox.control.phone_reply(mdn, "DEALS")
    client.list_subscriptions(key)
    client.list_subscriptions_by_external_id("t-1")
    client.unsubscribe(key, "1001")
    client.unsubscribe_by_external_id("t-1", "1001")
    client.list_subscription_lists()
    client.get_subscription_list("1001")
    client.list_acquisition_campaigns("1001")
    client.add_participant("AC1002", mdn=mdn)
    callback = client.register_callback("person_added", url=callback_receiver.url)
    client.list_callbacks()
    client.update_callback(
        callback["callback_id"], callback_type="person_added", url=callback_receiver.url
    )
    client.create_test_callback_event("person_added")
    client.delete_callback(callback["callback_id"])

    assert len(session.sent) == 19
    assert all(sent["timeout"] == (2.5, 7.0) for sent in session.sent)
    assert all(sent["allow_redirects"] is False for sent in session.sent)
    assert len(vibes_sandbox.control.calls()) == 19
