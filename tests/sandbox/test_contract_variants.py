"""The contract the sandbox plays where Vibes' documents disagree: choosing it and its effect."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from tests.fixtures.sandbox import (
    CONTRACT_VARIANTS,
    DEFAULT_SANDBOX_CONTRACT,
    contract_variants,
    find_free_port,
)
from vibes_integration.errors import NotFound
from vibes_integration.sandbox.config import DEMO_CONFIG_PATH, ConfigError, load_config
from vibes_integration.sandbox.control import SandboxControlError

ROOT = Path(__file__).resolve().parents[2]
MDN = "+12015550181"

CURRENT_REFERENCE = {
    "update_person_answer": "created_no_body",
    "update_by_unknown_external_id": "not_found",
    "callback_person": "current",
    "add_person_answer": "created_body",
}


def test_the_default_is_the_current_reference(vibes_sandbox):
    assert vibes_sandbox.control.contract() == CURRENT_REFERENCE
    assert DEFAULT_SANDBOX_CONTRACT == CURRENT_REFERENCE
    assert {key: values[0] for key, values in CONTRACT_VARIANTS.items()} == CURRENT_REFERENCE


def test_set_contract_changes_only_the_keys_named(vibes_sandbox):
    answered = vibes_sandbox.control.set_contract(update_person_answer="ok_echo")

    assert answered == {**CURRENT_REFERENCE, "update_person_answer": "ok_echo"}
    assert vibes_sandbox.control.contract() == answered


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"update_person_answers": "ok_echo"}, "unknown contract key 'update_person_answers'"),
        ({"update_person_answer": "ok"}, "choose one of \\['created_no_body', 'ok_echo'\\]"),
    ],
)
def test_an_unknown_key_or_value_is_refused_and_changes_nothing(vibes_sandbox, values, message):
    response = requests.post(
        f"{vibes_sandbox.url}/_sandbox/contract",
        json={"callback_person": "legacy", **values},
        timeout=5,
    )

    assert response.status_code == 400
    assert re.search(message, response.json()["error"])
    with pytest.raises(SandboxControlError, match=message):
        vibes_sandbox.control.set_contract(**values)
    assert vibes_sandbox.control.contract() == CURRENT_REFERENCE


def test_a_contract_that_is_not_an_object_is_refused(vibes_sandbox):
    response = requests.post(f"{vibes_sandbox.url}/_sandbox/contract", json=["ok_echo"], timeout=5)

    assert response.status_code == 400
    assert "JSON object" in response.json()["error"]


def test_reset_and_seed_go_back_to_the_configs_contract(vibes_sandbox):
    control = vibes_sandbox.control
    control.set_contract(callback_person="legacy")
    control.reset()
    assert control.contract() == CURRENT_REFERENCE

    config = json.loads(DEMO_CONFIG_PATH.read_text())
    config["contract"] = {"add_person_answer": "created_no_body"}
    control.seed(config)
    control.set_contract(callback_person="legacy")
    control.reset()

    assert control.contract() == {**CURRENT_REFERENCE, "add_person_answer": "created_no_body"}


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        ({"callback_person": "newest"}, "contract: contract callback_person cannot be"),
        ({"colour": "red"}, "contract: unknown contract key 'colour'"),
        ("ok_echo", "contract: contract must be an object"),
    ],
)
def test_a_config_with_a_bad_contract_is_refused(contract, message):
    config = json.loads(DEMO_CONFIG_PATH.read_text())
    config["contract"] = contract

    with pytest.raises(ConfigError, match=message):
        load_config(config)


def test_a_config_without_a_contract_plays_the_current_reference():
    assert load_config(DEMO_CONFIG_PATH)["contract"] == CURRENT_REFERENCE


@pytest.mark.parametrize(
    "sandbox_contract", contract_variants("update_person_answer"), indirect=True
)
def test_the_fixture_plays_each_variant(vibes_sandbox, sandbox_contract):
    assert vibes_sandbox.control.contract() == sandbox_contract
    assert sandbox_contract["update_person_answer"] in CONTRACT_VARIANTS["update_person_answer"]


def test_contract_variants_lists_every_combination():
    every = contract_variants()
    pairs = contract_variants("update_person_answer", "callback_person")

    assert len(every) == 2**4
    assert [param.id for param in pairs] == [
        "update_person_answer=created_no_body,callback_person=current",
        "update_person_answer=created_no_body,callback_person=legacy",
        "update_person_answer=ok_echo,callback_person=current",
        "update_person_answer=ok_echo,callback_person=legacy",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--contract", "update_person_answer"], "is not key=value"),
        (["--contract", "update_person_answer=maybe"], "choose one of"),
        (["--contract", "speed=fast"], "unknown contract key 'speed'"),
    ],
)
def test_the_command_explains_a_bad_contract(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("vibes_sandbox", *args)


def test_the_command_plays_the_contract_it_is_given():
    port = find_free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "vibes_sandbox",
            "--port",
            str(port),
            "--contract",
            "update_person_answer=ok_echo",
            "--contract",
            "callback_person=legacy",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        banner = [process.stdout.readline() for _ in range(6)]
        played = requests.get(f"http://127.0.0.1:{port}/_sandbox/contract", timeout=5).json()
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert played == {
        **CURRENT_REFERENCE,
        "update_person_answer": "ok_echo",
        "callback_person": "legacy",
    }
    assert any("update_person_answer=ok_echo" in line for line in banner)


# -- what each variant changes ----------------------------------------------------------------


def _person(vibes_sandbox, external_person_id: str = "c-1") -> dict:
    client = vibes_sandbox.client()
    client.add_person({"external_person_id": external_person_id, "mobile_phone": {"mdn": MDN}})
    return client.get_person_by_external_id(external_person_id)


@pytest.mark.parametrize(
    "sandbox_contract", contract_variants("update_person_answer"), indirect=True
)
def test_update_person_answers_as_the_contract_says(vibes_sandbox, sandbox_contract, api):
    person = _person(vibes_sandbox)
    sent = {"custom_fields": {"first_name": "Ada"}}

    by_key = api("PUT", f"/mobiledb/persons/{person['person_key']}", json=sent)
    by_external_id = api("PUT", "/mobiledb/persons/external/c-1", json=sent)

    for answer in (by_key, by_external_id):
        if sandbox_contract["update_person_answer"] == "ok_echo":
            assert (answer.status_code, answer.json()) == (200, sent)
        else:
            assert (answer.status_code, answer.content) == (201, b"")
    stored = vibes_sandbox.client().get_person(person["person_key"])
    assert stored["custom_fields"]["first_name"] == "Ada"


@pytest.mark.parametrize("sandbox_contract", contract_variants("add_person_answer"), indirect=True)
def test_add_person_answers_as_the_contract_says(vibes_sandbox, sandbox_contract, api):
    answer = api("POST", "/mobiledb/persons/", json={"mobile_phone": {"mdn": MDN}})

    assert answer.status_code == 201
    stored = vibes_sandbox.client().find_person_by_mdn(MDN)
    if sandbox_contract["add_person_answer"] == "created_body":
        assert answer.json()["person_key"] == stored["person_key"]
    else:
        assert answer.content == b""


@pytest.mark.parametrize(
    "sandbox_contract", contract_variants("update_by_unknown_external_id"), indirect=True
)
def test_update_by_an_unknown_external_id(vibes_sandbox, sandbox_contract, api):
    client = vibes_sandbox.client()
    sent = {"mobile_phone": {"mdn": MDN}, "custom_fields": {"first_name": "Grace"}}

    answer = api("PUT", "/mobiledb/persons/external/new-1", json=sent)

    if sandbox_contract["update_by_unknown_external_id"] == "upsert":
        assert answer.status_code == 201
        created = client.get_person_by_external_id("new-1")
        assert created["mobile_phone"]["mdn"] == MDN
        assert created["custom_fields"]["first_name"] == "Grace"
    else:
        assert (answer.status_code, answer.content) == (404, b"")
        with pytest.raises(NotFound):
            client.get_person_by_external_id("new-1")
        assert vibes_sandbox.control.persons() == []
