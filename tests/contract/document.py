"""Vibes' published OpenAPI document as a judge of the sandbox's answers.

``tests/fixtures/vibes_openapi.json`` is Vibes' public specification, carried unchanged.
``DocumentedAnswers.problems`` says what is wrong with one HTTP answer: a status the document
does not list for that operation, a body that does not fit the listed schema, a body where
the document promises one and none came, or a body where the document lists none.

Vibes' reference pages and the OpenAPI document disagree in a few places. Each place where
the sandbox follows the pages is listed below, in one of three tables, with the page's words;
nothing else is let through. The schema validation itself is openapi-core's (bodies with a
schema in the document) and openapi-schema-validator's (the bodies of the exceptions).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_schema_validator import OAS30ReadValidator

DOCUMENT_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "vibes_openapi.json"
# The document's first server; the sandbox's answers are judged as if they came from it.
VIBES_HOST = "https://public-api.vibescm.com"

PERSON = "/companies/{company_key}/mobiledb/persons/{person_key}"
PERSON_BY_EXTERNAL_ID = "/companies/{company_key}/mobiledb/persons/external/{external_person_id}"
PERSONS = "/companies/{company_key}/mobiledb/persons/"
PARTICIPANTS = "/companies/{company_key}/campaigns/acquisition/{acquisition_id}/participants"
CALLBACKS = "/companies/{company_key}/config/callbacks/"
CALLBACK = "/companies/{company_key}/config/callbacks/{callback_id}"
TEST_EVENT = "/companies/{company_key}/config/callback_events/test"

# Vibes' error envelope, as the reference pages give it ("4xx bodies: {"errors": [{"message":
# "...", "code": <int>}]}; several errors can come at once"); named conditions such as
# MDNHASCONFIRMATIONBLOCK come as the code ("422 with a code such as ...").
ERROR_ENVELOPE: dict[str, Any] = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["message", "code"],
                "properties": {
                    "message": {"type": "string"},
                    "code": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
                },
            },
        }
    },
}
NO_BODY = "no body"

# 1. Statuses the document does not list for an operation, which the pages (or, where the
#    pages are silent, the document itself for the same resource) give. Value: the body.
UNLISTED_STATUSES: dict[tuple[str, str, int], str | dict[str, Any]] = {
    # Update Person, seed page: "FAILURE: 404 - person not found no body"; current reference
    # (as quoted in the Vibes summary): "404 not found (no body)". The document lists only
    # 200, 201, 409 and 422.
    ("PUT", PERSON, 404): NO_BODY,
    ("PUT", PERSON_BY_EXTERNAL_ID, 404): NO_BODY,
    # Add Participant to a campaign that does not exist: the document lists no 404 here, but
    # answers the same unknown id on the campaign itself with "404: The `acquisition_id`
    # cannot be located." The sandbox answers that, with the error envelope.
    ("POST", PARTICIPANTS, 404): "errors",
    ("GET", PARTICIPANTS, 404): "errors",
    # Callback registrations: the document lists only 200 and 201, but marks the filters
    # "Required for Subscription Added callback" / "Required for Acquisition Added
    # callback", and the pages say to "configure callbacks for each campaign_id separately"
    # with "One registration per type per company (person callbacks: one per mobile
    # database)": a registration without its filter is refused (400), one for a list or
    # campaign Vibes does not have is refused (422), a second one for the same type and
    # list or campaign conflicts (409).
    ("POST", CALLBACKS, 400): "errors",
    ("POST", CALLBACKS, 409): "errors",
    ("POST", CALLBACKS, 422): "errors",
    ("PUT", CALLBACK, 400): "errors",
    ("PUT", CALLBACK, 409): "errors",
    ("PUT", CALLBACK, 422): "errors",
    # Updating a callback that does not exist: the document lists no 404 for PUT, but says
    # "The `callback_id` is not recognized." for GET and "cannot be found" for DELETE.
    ("PUT", CALLBACK, 404): "errors",
    # A test event without its list or campaign: the test-event request marks them
    # "Required if you are testing the subscription_added callback type" and "Required if
    # you are testing the ack_participant_added or ack_participant_changed callback type".
    ("POST", TEST_EVENT, 400): "errors",
}

# Statuses any operation may answer, from the pages: "Rate limit: 100 requests per second
# per company_key ... Past it: 429, with no Retry-After and no rate-limit headers."
UNLISTED_EVERYWHERE: dict[int, str | dict[str, Any]] = {429: "errors"}

# 2. Statuses the document lists without a body, for which the pages (or the document's
#    own 200 of the same operation) give one. Value: the schema of that body.
BODIES_THE_DOCUMENT_OMITS: dict[tuple[str, str, int], str] = {
    # Add Person 201 ("A person record has been created."): the pages say the "Response adds
    # `person_key`, `created_at`, `updated_at`, `url`" to the person sent; the sandbox's
    # default answers the created person (the add_person_answer variant answers nothing).
    ("POST", PERSONS, 201): "personResponse",
    # Add Participant 201: "The response carries `person {person_id, person_key, url}`,
    # `participation_date`, `expire_date` ... and `status`", the shape of its 200.
    ("POST", PARTICIPANTS, 201): "addParticipantResponse",
    # Register a callback 201 ("Callback has been successfully registered."): the sandbox
    # answers the registration in the shape of the operation's 200 (callbackResponse), as
    # "`GET`, `PUT`, `DELETE /config/callbacks/{callback_id}` manage them" needs its id.
    ("POST", CALLBACKS, 201): "callbackResponse",
    # Create a test callback event 201 ("The callback was queued for send."): the shape of
    # its 200, testCallbackResponse (message and event_id).
    ("POST", TEST_EVENT, 201): "testCallbackResponse",
}

# 3. Answers whose body the pages rule out although the document would allow one.
NO_BODY_BY_THE_PAGES: set[tuple[str, str, int]] = {
    # Seed page: "FAILURE: 409 - MDN cannot be changed no body"; the summary of the current
    # reference: "409 the MDN cannot be changed (no body)".
    ("PUT", PERSON, 409),
    ("PUT", PERSON_BY_EXTERNAL_ID, 409),
    # Current reference: Update Person "201 'Person record has been successfully updated'
    # with no documented body".
    ("PUT", PERSON, 201),
    ("PUT", PERSON_BY_EXTERNAL_ID, 201),
}

# 4. Update Person's 200 is the request echoed. Seed page: "SUCCESS: 200 Same Person body you
#    submitted is returned", and a request may carry nulls: "An MDN cannot be updated, but it
#    can be removed if you set its value to null", and erasure sets "`mobile_phone.mdn`,
#    `mobile_phone.carrier_code` and every custom field to null (and `external_person_id`
#    to null to unlink it)". Those answers are judged by personResponse with those nulls.
ECHOED_REQUESTS: set[tuple[str, str, int]] = {
    ("PUT", PERSON, 200),
    ("PUT", PERSON_BY_EXTERNAL_ID, 200),
}
ECHO_NULLABLE: list[tuple[str, ...]] = [
    ("properties", "external_person_id"),
    ("properties", "mobile_phone"),
    ("properties", "mobile_phone", "properties", "mdn"),
    ("properties", "mobile_phone", "properties", "carrier_code"),
    ("properties", "custom_fields", "additionalProperties"),
]

# 5. Schema changes where the pages and the document disagree on a value's type:
#    (schema name, JSON path inside it, replacement, the pages' words).
SCHEMA_AMENDMENTS: list[tuple[str, tuple[str, ...], dict[str, Any], str]] = [
    (
        "personResponse",
        ("properties", "custom_fields", "additionalProperties"),
        {
            "oneOf": [
                {"type": "string"},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "array"},
            ]
        },
        "Custom field values can be strings, dates (`1950-12-01T00:00:00Z`), numbers, "
        "booleans, and multi-select lists",
    ),
]

# The document's own defects, which say nothing about the sandbox: its header parameters
# declare `"type": "string", "default": 1`, so openapi-core's check of the document itself
# is switched off (the schemas used to judge answers are checked by validating with them).
SPEC_VALIDATION = False


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the sandbox to one request, as the checker needs it."""

    method: str
    path: str
    query: str
    status: int
    content_type: str | None
    body: bytes

    @classmethod
    def of(cls, response) -> Answer:
        """From a ``requests.Response`` (its request included)."""
        path, _, query = response.request.path_url.partition("?")
        return cls(
            method=response.request.method,
            path=path,
            query=query,
            status=response.status_code,
            content_type=response.headers.get("Content-Type"),
            body=response.content,
        )


class DocumentedAnswers:
    """Judges answers against the document (amended only as the tables above say)."""

    def __init__(self, path: Path = DOCUMENT_PATH) -> None:
        self.raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self.amended = copy.deepcopy(self.raw)
        for schema, where, replacement, _words in SCHEMA_AMENDMENTS:
            node = self.amended["components"]["schemas"][schema]
            for key in where[:-1]:
                node = node[key]
            node[where[-1]] = replacement
        echo = copy.deepcopy(self.amended["components"]["schemas"]["personResponse"])
        for where in ECHO_NULLABLE:
            node = echo
            for key in where:
                node = node[key]
            if "oneOf" in node:
                node["oneOf"].append({"nullable": True, "enum": [None]})
            else:
                node["nullable"] = True
        self.amended["components"]["schemas"]["echoedPersonRequest"] = echo
        self._templates = sorted(
            (
                (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
                for template in self.raw["paths"]
            ),
            key=lambda item: -len(re.sub(r"\{[^}]+\}", "", item[1])),
        )

    @cached_property
    def openapi(self) -> OpenAPI:
        from openapi_core import Config

        config = Config(spec_validator_cls=None) if not SPEC_VALIDATION else Config()
        return OpenAPI.from_dict(self.amended, config=config)

    def template(self, method: str, path: str) -> str | None:
        """The document's path template of an operation, the most literal match first."""
        for regex, template in self._templates:
            if regex.match(path) and method.lower() in self.raw["paths"][template]:
                return template
        return None

    def problems(self, answer: Answer) -> list[str]:
        """What the document (with its exceptions) finds wrong with ``answer``; [] is fine."""
        where = f"{answer.method} {answer.path} answered {answer.status}"
        template = self.template(answer.method, answer.path)
        if template is None:
            return [f"{answer.method} {answer.path}: no such operation in the document"]
        key = (answer.method, template, answer.status)
        listed = self.raw["paths"][template][answer.method.lower()]["responses"]
        if str(answer.status) not in listed:
            allowed = UNLISTED_STATUSES.get(key) or UNLISTED_EVERYWHERE.get(answer.status)
            if allowed is None:
                return [f"{where}: the document lists only {sorted(listed)} for {template}"]
            return self._body_problems(where, answer, allowed)
        documented = listed[str(answer.status)]
        if key in NO_BODY_BY_THE_PAGES:
            return self._body_problems(where, answer, NO_BODY)
        if key in ECHOED_REQUESTS:
            return self._body_problems(where, answer, "echoedPersonRequest")
        schema = (documented.get("content") or {}).get("application/json", {}).get("schema")
        if schema is not None:
            if not answer.body:
                return [f"{where} with no body; the document promises one"]
            return self._openapi_problems(where, answer)
        if not answer.body:
            return []
        if key in BODIES_THE_DOCUMENT_OMITS:
            return self._body_problems(where, answer, BODIES_THE_DOCUMENT_OMITS[key])
        if "content" in documented:
            return self._body_problems(where, answer, {})
        if answer.status >= 400:
            return self._body_problems(where, answer, "errors")
        return [f"{where} with a body; the document lists that status without one"]

    def _openapi_problems(self, where: str, answer: Answer) -> list[str]:
        request = MockRequest(
            VIBES_HOST,
            answer.method,
            answer.path,
            args={key: values[-1] for key, values in parse_qs(answer.query).items()},
        )
        response = MockResponse(
            answer.body,
            status_code=answer.status,
            content_type=(answer.content_type or "").split(";")[0].strip(),
        )
        errors = list(self.openapi.iter_response_errors(request, response))
        return [f"{where}: {_explained(error)}" for error in errors]

    def _body_problems(
        self, where: str, answer: Answer, expected: str | dict[str, Any]
    ) -> list[str]:
        if expected == NO_BODY:
            return [f"{where} with a body; the pages say none"] if answer.body else []
        if not answer.body:
            return [f"{where} with no body"]
        try:
            body = json.loads(answer.body)
        except ValueError:
            return [f"{where} with a body that is not JSON"]
        if expected == "errors":
            schema = ERROR_ENVELOPE
        elif isinstance(expected, str):
            schema = {
                "$ref": f"#/components/schemas/{expected}",
                "components": self.amended["components"],
            }
        else:
            schema = expected
        validator = OAS30ReadValidator(schema)
        return [
            f"{where}: {error.message} at {list(error.absolute_path)}"
            for error in validator.iter_errors(body)
        ]


def _explained(error: Exception) -> str:
    """openapi-core's error, with the schema errors behind it when it keeps them apart."""
    details = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    if cause is not None and str(cause) != str(error):
        details.append(f"{type(cause).__name__}: {cause}")
    return "; ".join(details)
