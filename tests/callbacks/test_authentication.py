"""Each authentication mode, accepted and refused; refused requests store nothing."""

from __future__ import annotations

import base64
import logging

import pytest
from django.core.checks import run_checks

from tests.callbacks.receivers import receiver_client
from tests.fixtures.callbacks import callback_body, post_callback
from vibes_integration.callbacks.models import CallbackEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("open_callbacks")]

client = receiver_client()

VIBES_US = "35.155.139.143"
VIBES_EU = "54.217.181.160"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _post(client, **extra):
    return post_callback(client, callback_body("subscription_added", event_id="new"), **extra)


class TestBasic:
    @pytest.fixture(autouse=True)
    def credentials(self, open_callbacks, settings):
        settings.VIBES_CALLBACK_CREDENTIALS = [("vibes", "old-secret"), ("vibes", "new-secret")]

    @pytest.mark.parametrize("password", ["old-secret", "new-secret"])
    def test_every_configured_pair_is_accepted_so_they_can_rotate(self, client, password):
        response = _post(client, HTTP_AUTHORIZATION=_basic("vibes", password))
        assert response.status_code == 200
        assert CallbackEvent.objects.get().authenticated_as == "basic:vibes"

    @pytest.mark.parametrize(
        "header",
        [
            None,
            _basic("vibes", "wrong"),
            _basic("intruder", "new-secret"),
            "Bearer new-secret",
            "Basic not-base64!!",
            "Basic " + base64.b64encode(b"no-colon").decode(),
        ],
        ids=["missing", "wrong-password", "wrong-user", "other-scheme", "garbage", "no-colon"],
    )
    def test_anything_else_is_refused_with_401_and_nothing_stored(self, client, header, caplog):
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        with caplog.at_level(logging.WARNING, logger="vibes_integration.callbacks.views"):
            response = _post(client, **extra)

        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Basic realm=")
        assert not CallbackEvent.objects.exists()
        assert "Refused a Vibes callback from 127.0.0.1" in caplog.text
        assert "secret" not in caplog.text


class TestPathToken:
    @pytest.fixture(autouse=True)
    def tokens(self, open_callbacks, settings):
        settings.VIBES_CALLBACK_TOKENS = ["tok-current-8f2e", "tok-next-19ab"]

    @pytest.mark.parametrize("token", ["tok-current-8f2e", "tok-next-19ab"])
    def test_each_token_is_accepted(self, client, token):
        response = _post(client, path=f"/vibes/callbacks/{token}/")
        assert response.status_code == 200
        assert CallbackEvent.objects.get().authenticated_as.startswith("token #")

    @pytest.mark.parametrize("path", ["/vibes/callbacks/", "/vibes/callbacks/tok-guess/"])
    def test_no_token_or_a_wrong_one_is_refused_with_403(self, client, path):
        assert _post(client, path=path).status_code == 403
        assert not CallbackEvent.objects.exists()

    def test_head_answers_200_on_any_path(self, client):
        assert client.head("/vibes/callbacks/tok-guess/").status_code == 200


def test_a_token_path_when_no_token_is_configured_is_not_found(client):
    assert _post(client, path="/vibes/callbacks/anything/").status_code == 404
    assert not CallbackEvent.objects.exists()


def test_token_and_basic_together_both_required(client, settings):
    settings.VIBES_CALLBACK_TOKENS = ["tok-1"]
    settings.VIBES_CALLBACK_CREDENTIALS = [("vibes", "pw")]

    assert _post(client, path="/vibes/callbacks/tok-1/").status_code == 401
    assert _post(client, HTTP_AUTHORIZATION=_basic("vibes", "pw")).status_code == 403
    ok = _post(client, path="/vibes/callbacks/tok-1/", HTTP_AUTHORIZATION=_basic("vibes", "pw"))
    assert ok.status_code == 200
    assert CallbackEvent.objects.get().authenticated_as == "token #1, basic:vibes"


class TestAddressAllowlist:
    @pytest.fixture(autouse=True)
    def allowlist(self, open_callbacks, settings):
        settings.VIBES_CALLBACK_ALLOWED_IPS = [VIBES_US, VIBES_EU, "10.20.0.0/16"]

    @pytest.mark.parametrize("address", [VIBES_US, VIBES_EU, "10.20.3.4", "::ffff:10.20.3.4"])
    def test_vibes_addresses_and_networks_are_accepted(self, client, address):
        response = _post(client, REMOTE_ADDR=address)
        assert response.status_code == 200
        event = CallbackEvent.objects.get()
        assert event.authenticated_as == "address"

    def test_another_address_is_refused_with_403(self, client):
        assert _post(client, REMOTE_ADDR="203.0.113.9").status_code == 403
        assert not CallbackEvent.objects.exists()

    def test_forwarded_for_is_ignored_from_an_untrusted_peer(self, client, settings):
        settings.VIBES_TRUSTED_PROXIES = ["10.0.0.5"]
        response = _post(client, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=VIBES_US)
        assert response.status_code == 403
        assert not CallbackEvent.objects.exists()

    def test_forwarded_for_is_read_behind_a_trusted_proxy(self, client, settings):
        settings.VIBES_TRUSTED_PROXIES = ["10.0.0.0/24"]
        response = _post(
            client,
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR=f"{VIBES_US}, 10.0.0.7",
        )
        assert response.status_code == 200
        event = CallbackEvent.objects.get()
        assert event.remote_addr == VIBES_US
        assert event.headers["X-Forwarded-For"] == f"{VIBES_US}, 10.0.0.7"

    @pytest.mark.parametrize(
        ("forwarded", "stored"),
        [(f"{VIBES_US}:5000", VIBES_US), ("[::ffff:10.20.3.4]:443", "::ffff:10.20.3.4")],
    )
    def test_a_forwarded_address_with_a_port_is_read_as_the_preference_pages_read_it(
        self, client, settings, forwarded, stored
    ):
        settings.VIBES_TRUSTED_PROXIES = ["10.0.0.5"]
        response = _post(client, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded)
        assert response.status_code == 200
        assert CallbackEvent.objects.get().remote_addr == stored

    def test_a_spoofed_leftmost_forwarded_for_does_not_help(self, client, settings):
        # The attacker sends X-Forwarded-For: <Vibes>; the proxy appends the real client.
        settings.VIBES_TRUSTED_PROXIES = ["10.0.0.5"]
        response = _post(
            client,
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR=f"{VIBES_US}, 203.0.113.9",
        )
        assert response.status_code == 403
        assert not CallbackEvent.objects.exists()

    def test_allowlist_and_basic_together(self, client, settings):
        settings.VIBES_CALLBACK_CREDENTIALS = [("vibes", "pw")]
        assert _post(client, REMOTE_ADDR=VIBES_US).status_code == 401
        ok = _post(client, REMOTE_ADDR=VIBES_US, HTTP_AUTHORIZATION=_basic("vibes", "pw"))
        assert ok.status_code == 200
        assert (
            _post(
                client, REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=_basic("vibes", "pw")
            ).status_code
            == 403
        )


def test_the_open_endpoint_accepts_anyone_and_says_so(client):
    assert _post(client, REMOTE_ADDR="203.0.113.9").status_code == 200
    assert CallbackEvent.objects.get().authenticated_as == "open"


def _check_ids(settings) -> set[str]:
    return {message.id for message in run_checks() if message.id.startswith("prefcenter.")}


def test_system_check_warns_when_the_endpoint_is_open(settings):
    assert "prefcenter.W301" in _check_ids(settings)
    settings.VIBES_CALLBACK_TOKENS = ["tok"]
    assert "prefcenter.W301" not in _check_ids(settings)
    settings.VIBES_CALLBACK_TOKENS = []
    settings.VIBES_CALLBACK_ALLOWED_IPS = [VIBES_US]
    assert "prefcenter.W301" not in _check_ids(settings)


def test_system_check_refuses_unreadable_addresses(settings):
    settings.VIBES_CALLBACK_ALLOWED_IPS = [VIBES_US, "35.155.139.300"]
    settings.VIBES_TRUSTED_PROXIES = ["lb.internal"]
    messages = [m for m in run_checks() if m.id == "prefcenter.E301"]
    assert len(messages) == 2
    assert "35.155.139.300" in messages[0].msg
    assert "lb.internal" in messages[1].msg
