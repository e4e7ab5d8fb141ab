"""Running the sandbox: its own SQLite state across restarts, the config, the command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from tests.fixtures.sandbox import find_free_port
from vibes_integration.client import VibesClient
from vibes_integration.sandbox.config import DEMO_CONFIG_PATH, ConfigError, load_config
from vibes_integration.sandbox.control import SandboxControl
from vibes_integration.sandbox.server import SandboxServer

MDN = "+12015550191"
ROOT = Path(__file__).resolve().parents[2]


def _client(server: SandboxServer) -> VibesClient:
    return VibesClient(
        base_url=server.url, company_key="demo", username="demo", password="demo-password"
    )


def test_state_file_keeps_persons_subscriptions_texts_and_registrations(tmp_path):
    state = tmp_path / "sandbox.sqlite3"
    with SandboxServer(config=DEMO_CONFIG_PATH, state_path=state) as server:
        client = _client(server)
        person = client.add_person({"external_person_id": "keep-1", "mobile_phone": {"mdn": MDN}})
        SandboxControl(server.url).phone_reply(MDN, "DEALS")
        client.register_callback("person_added", url="https://crm.example.com/cb")

    with SandboxServer(config=DEMO_CONFIG_PATH, state_path=state) as server:
        client = _client(server)
        control = SandboxControl(server.url)
        assert client.get_person_by_external_id("keep-1") == person.person
        assert client.find_person_by_mdn(MDN)["person_key"] == person.person["person_key"]
        assert [
            s["subscription_list"]["id"] for s in client.list_subscriptions_by_external_id("keep-1")
        ] == ["1001"]
        assert [m["direction"] for m in control.phone_messages(MDN)] == ["in", "out"]
        assert len(client.list_callbacks()) == 1
        # Counters continue: a new person does not reuse an id.
        second = client.add_person({"external_person_id": "keep-2"})
        ids = sorted(p["person_id"] for p in control.persons())
        assert ids == [1, 2]
        assert second.created

        control.reset()
    with SandboxServer(config=DEMO_CONFIG_PATH, state_path=state) as server:
        assert SandboxControl(server.url).persons() == []


def test_without_a_state_file_nothing_survives(tmp_path):
    with SandboxServer() as server:
        _client(server).add_person({"external_person_id": "gone"})
    with SandboxServer() as server:
        assert SandboxControl(server.url).persons() == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"company_key": ""}, "company_key"),
        ({"credentials": [{"username": "x"}]}, r"credentials\[0\]"),
        ({"subscription_lists": [{"id": "1"}]}, r"subscription_lists\[0\]: id and name"),
        ({"custom_fields": [{"key": "x", "type": "colour"}]}, r"custom_fields\[0\]: type"),
        ({"custom_fields": [{"key": "x", "type": "choice"}]}, "needs options"),
        ({"rate_limit": "fast"}, "rate_limit"),
    ],
)
def test_config_errors_name_the_bad_entry(change, message):
    config = json.loads(DEMO_CONFIG_PATH.read_text())
    config.update(change)

    with pytest.raises(ConfigError, match=message):
        load_config(config)


def test_config_file_errors(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")

    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(broken)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.json")


def test_duplicate_keywords_are_refused():
    config = json.loads(DEMO_CONFIG_PATH.read_text())
    config["subscription_lists"][1]["keyword"] = "deals"

    with pytest.raises(ConfigError, match="keyword DEALS is used twice"):
        load_config(config)


def _start_command(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "vibes_sandbox", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_the_command_serves_until_sigterm(tmp_path):
    port = find_free_port()
    process = _start_command("--port", str(port), "--state", str(tmp_path / "state.sqlite3"))
    try:
        banner = process.stdout.readline()
        assert f"at http://127.0.0.1:{port}" in banner
        answer = requests.get(
            f"http://127.0.0.1:{port}/companies/demo/mobiledb/subscription_lists/",
            auth=("demo", "demo-password"),
            timeout=5,
        )
        assert answer.status_code == 200
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "Vibes sandbox stopped." in output
    assert (tmp_path / "state.sqlite3").exists()


def test_the_command_stops_on_ctrl_c():
    port = find_free_port()
    process = _start_command("--port", str(port))
    try:
        process.stdout.readline()
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert "Vibes sandbox stopped." in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--config", "/nonexistent.json"], "does not exist"),
        (["--port", "70000"], "is not a port number"),
    ],
)
def test_the_command_explains_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("vibes_sandbox", *args)


def test_the_command_explains_a_bad_config(tmp_path):
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"company_key": "x", "credentials": []}))

    with pytest.raises(CommandError, match="credentials"):
        call_command("vibes_sandbox", "--config", str(config))


def test_the_command_explains_a_busy_port():
    with SandboxServer() as server, pytest.raises(CommandError, match="Cannot listen on"):
        call_command("vibes_sandbox", "--port", str(server.port))


def test_the_command_retries_callbacks_for_minutes_unless_the_config_says_otherwise(tmp_path):
    from vibes_integration.management.commands.vibes_sandbox import Command

    no_options = {"delivery_backoff": None, "delivery_attempts": None}
    demo = load_config(DEMO_CONFIG_PATH)
    patient = Command._delivery(DEMO_CONFIG_PATH, demo["delivery"], no_options)
    fast_file = tmp_path / "fast.json"
    fast_file.write_text(
        json.dumps({**json.loads(DEMO_CONFIG_PATH.read_text()), "delivery": {"max_attempts": 2}})
    )
    fast = load_config(fast_file)
    own = Command._delivery(fast_file, fast["delivery"], no_options)
    told = Command._delivery(
        DEMO_CONFIG_PATH, demo["delivery"], {"delivery_backoff": 0.5, "delivery_attempts": 3}
    )

    assert (patient["backoff_seconds"], patient["max_attempts"]) == (1.0, 8)
    assert (own["backoff_seconds"], own["max_attempts"]) == (0.05, 2)
    assert (told["backoff_seconds"], told["max_attempts"]) == (0.5, 3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--delivery-backoff", "-1"], "cannot be negative"),
        (["--delivery-attempts", "0"], "between 1 and 50"),
    ],
)
def test_the_command_explains_bad_retry_options(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("vibes_sandbox", *args)


def test_a_bad_content_length_is_refused(vibes_sandbox):
    host, port = vibes_sandbox.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(
            b"POST /companies/demo/mobiledb/persons/ HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: lots\r\n\r\n"
        )
        answer = connection.recv(4096)

    assert answer.startswith(b"HTTP/1.1 400")


def test_a_call_answered_after_its_client_gave_up_does_not_land_after_a_seed():
    """A slowed-down call still being answered when the sandbox is seeded again finishes
    first, so the new state and call log start clean (tests rely on it between tests)."""
    with SandboxServer(config=DEMO_CONFIG_PATH) as server:
        control = SandboxControl(server.url)
        control.set_faults(api_delay_ms=500)
        with pytest.raises(requests.Timeout):
            requests.post(
                f"{server.url}/companies/demo/mobiledb/persons/",
                json={"external_person_id": "late-1", "mobile_phone": {"mdn": MDN}},
                auth=("demo", "demo-password"),
                headers={"X-API-Version": "2"},
                timeout=0.1,
            )
        control.seed()
        time.sleep(0.6)  # past the moment the slowed-down call would have been applied
        assert control.persons() == []
        assert control.calls() == []
