"""The contract tests' view of the sandbox: prefcenter's own client over real HTTP, with every
answer kept so that each test can have the published OpenAPI document judge all of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests

from tests.contract.document import Answer, DocumentedAnswers
from vibes_integration.client import VibesClient


@pytest.fixture(scope="session")
def documented() -> DocumentedAnswers:
    return DocumentedAnswers()


@dataclass
class ContractRecorder:
    """A ``VibesClient`` whose every answer is recorded, and the document to judge them."""

    client: VibesClient
    documented: DocumentedAnswers
    session: requests.Session
    answers: list[Answer] = field(default_factory=list)

    def raw(self, method: str, path: str, **kwargs) -> requests.Response:
        """A call the client would never make (``path`` after the company, query included),
        recorded like the client's."""
        return self.session.request(
            method,
            f"{self.client.base_url}/companies/{self.client.company_key}{path}",
            auth=self.client.auth,
            headers={"X-API-Version": "2", "Content-Type": "application/json"},
            timeout=10,
            **kwargs,
        )

    def record(self, response: requests.Response, *args, **kwargs) -> None:
        self.answers.append(Answer.of(response))

    def check(self) -> set[tuple[str, str, int]]:
        """Judge every answer so far; fails on the first undocumented one. Answers the
        (method, path template, status) of each, for the test to say which it drove."""
        seen = set()
        problems = []
        for answer in self.answers:
            problems.extend(self.documented.problems(answer))
            template = self.documented.template(answer.method, answer.path) or answer.path
            seen.add(
                (answer.method, template.removeprefix("/companies/{company_key}"), answer.status)
            )
        assert not problems, "\n".join(problems)
        assert seen, "no answer was recorded"
        return seen


@pytest.fixture
def contract(vibes_sandbox, documented) -> Iterator[ContractRecorder]:
    session = requests.Session()
    recorder = ContractRecorder(
        client=vibes_sandbox.client(session=session), documented=documented, session=session
    )
    session.hooks["response"].append(recorder.record)
    try:
        yield recorder
    finally:
        session.close()
