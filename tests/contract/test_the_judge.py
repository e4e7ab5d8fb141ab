"""The contract check can fail: answers with a status or a shape the document does not list
are reported, whether the sandbox really sent them or they are the sandbox's answers altered."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.contract.document import DOCUMENT_PATH, UNLISTED_STATUSES, Answer
from vibes_integration.errors import TransientError

MDN = "+12015550241"


def _altered(answer: Answer, body) -> Answer:
    raw = b"" if body is None else json.dumps(body).encode()
    return dataclasses.replace(answer, body=raw, content_type="application/json" if raw else None)


def test_the_fixture_is_vibes_document_unchanged():
    document = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))

    assert document["openapi"] == "3.0.0"
    assert len(document["paths"]) == 48


def test_a_status_the_document_does_not_list_fails(vibes_sandbox, contract):
    vibes_sandbox.control.set_faults(fail_next=[500])

    with pytest.raises(TransientError):
        contract.client.list_subscription_lists()

    with pytest.raises(AssertionError, match=r"answered 500: the document lists only \['200'\]"):
        contract.check()


def test_fields_a_newer_vibes_adds_are_still_documented(vibes_sandbox, contract):
    vibes_sandbox.control.set_faults(extra_fields=True)
    contract.client.add_person({"external_person_id": "j-1", "mobile_phone": {"mdn": MDN}})

    contract.client.get_person_by_external_id("j-1")

    assert ("GET", "/mobiledb/persons/external/{external_person_id}", 200) in contract.check()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda person: person.update(external_person_id=None), "None for not nullable"),
        (lambda person: person.update(mobile_phone={"mdn": 12015550241}), "is not of type"),
        (lambda person: person.update(custom_fields={"first_name": None}), "not valid under"),
    ],
)
def test_a_person_of_another_shape_fails(vibes_sandbox, contract, documented, change, message):
    contract.client.add_person(
        {"external_person_id": "j-2", "mobile_phone": {"mdn": MDN}, "custom_fields": {}}
    )
    contract.client.get_person_by_external_id("j-2")
    answer = contract.answers[-1]
    person = json.loads(answer.body)
    change(person)

    assert documented.problems(answer) == []
    problems = documented.problems(_altered(answer, person))
    assert problems
    assert message in " ".join(problems)


def test_a_subscription_of_another_shape_fails(vibes_sandbox, contract, documented):
    vibes_sandbox.control.phone_reply(MDN, "DEALS")
    key = vibes_sandbox.control.persons()[0]["person_key"]
    contract.client.list_subscriptions(key)
    answer = contract.answers[-1]
    records = json.loads(answer.body)

    assert documented.problems(answer) == []
    assert documented.problems(_altered(answer, [dict(records[0], opt_out_reason=None)]))
    assert documented.problems(_altered(answer, [dict(records[0], opt_out_reason="bored")]))
    assert documented.problems(_altered(answer, None)) == [
        f"GET {answer.path} answered 200 with no body; the document promises one"
    ]


def test_bodies_the_pages_rule_out_fail(vibes_sandbox, contract, documented):
    contract.client.add_person({"external_person_id": "j-3", "mobile_phone": {"mdn": MDN}})
    contract.client.update_person_by_external_id("j-3", {"custom_fields": {}})
    updated = contract.answers[-1]
    with pytest.raises(Exception, match="404"):
        contract.client.update_person("no-such-key", {})
    not_found = contract.answers[-1]

    assert (updated.status, updated.body) == (201, b"")
    assert documented.problems(_altered(updated, {"person_key": "k"})) == [
        f"PUT {updated.path} answered 201 with a body; the pages say none"
    ]
    assert documented.problems(_altered(not_found, {"errors": [{"message": "x", "code": 404}]}))
    assert contract.check()


def test_an_error_body_outside_the_envelope_fails(vibes_sandbox, contract, documented):
    with pytest.raises(Exception, match="404"):
        contract.client.get_person("no-such-key")
    answer = contract.answers[-1]

    assert documented.problems(answer) == []
    assert documented.problems(_altered(answer, {"error": "not found"}))
    assert documented.problems(_altered(answer, {"errors": [{"message": "x"}]}))


def test_every_exception_names_an_operation_of_the_document(documented):
    for method, template, _status in UNLISTED_STATUSES:
        assert method.lower() in documented.raw["paths"][template], template
