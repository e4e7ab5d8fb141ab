"""The receiver example of docs/webhooks.md, run as it is printed, against real deliveries.

The first ``python`` code block of the page is executed (not copied): a change to the page
that breaks the example fails here.
"""

from __future__ import annotations

import re
import threading
from http.server import HTTPServer
from pathlib import Path

import pytest

from prefcenter.webhooks import services, signing
from prefcenter.webhooks.choices import AttemptOutcome, DeliveryState
from prefcenter.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.fixtures.builders import make_person
from tests.webhooks.conftest import deliver_until, register

pytestmark = pytest.mark.django_db(transaction=True)

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def _example() -> dict:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert code, "docs/webhooks.md has no python example"
    namespace: dict = {"__name__": "docs_webhooks_example"}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)
    return namespace


class _Server:
    """The example's handler served on a free port, and the events it accepted."""

    def __init__(self, example: dict, secret: str) -> None:
        self.events: list[dict] = []
        self.httpd = HTTPServer(
            ("127.0.0.1", 0), example["make_handler"](secret, self.events.append)
        )
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def example() -> dict:
    return _example()


def test_the_documented_receiver_accepts_a_real_delivery_and_refuses_a_wrong_secret(
    example, callback_receiver
):
    # Two endpoints at one receiver: it knows the first one's secret only.
    known = register(callback_receiver)
    stranger = register(callback_receiver)
    server = _Server(example, known.secret)
    try:
        services.endpoint_update(endpoint=known.endpoint, url=server.url)
        services.endpoint_update(endpoint=stranger.endpoint, url=server.url)
        person = make_person(external_person_id="crm-42")

        deliver_until(lambda: WebhookAttempt.objects.count() >= 2)
    finally:
        server.stop()

    [event] = server.events
    assert event["type"] == "person.changed"
    assert event["data"]["person"]["id"] == person.pk
    accepted = WebhookDelivery.objects.get(endpoint=known.endpoint)
    assert accepted.state == DeliveryState.SUCCEEDED and accepted.last_status_code == 204
    refused = WebhookAttempt.objects.get(delivery__endpoint=stranger.endpoint, number=1)
    assert (refused.status_code, refused.outcome) == (401, AttemptOutcome.RETRY)


def test_the_documented_verify_refuses_an_old_timestamp_and_a_changed_body(example):
    secret = signing.secret_generate()
    body = b'{"type":"person.changed"}'
    headers = signing.signed_headers(
        signing_secrets=[secret], message_id="msg_1", timestamp=1_700_000_000, body=body
    )

    assert example["verify"](secret, headers, body, now=1_700_000_060) == {"type": "person.changed"}
    with pytest.raises(example["InvalidSignature"], match="timestamp"):
        example["verify"](secret, headers, body, now=1_700_000_000 + 3600)
    with pytest.raises(example["InvalidSignature"], match="no valid signature"):
        example["verify"](secret, headers, body + b" ", now=1_700_000_060)
