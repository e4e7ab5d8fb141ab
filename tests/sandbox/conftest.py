"""Raw HTTP access to the sandbox, for the rules a well-behaved client never trips over."""

from __future__ import annotations

import pytest
import requests


class RawApi:
    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.session = requests.Session()

    def __call__(
        self,
        method: str,
        path: str,
        *,
        json=None,
        data: bytes | None = None,
        version: str | None = "2",
        auth: tuple[str, str] | bool | None = True,
        company_key: str | None = None,
    ) -> requests.Response:
        """``path`` is taken as is after ``/companies/<key>``, query string included."""
        headers = {"Content-Type": "application/json"}
        if version is not None:
            headers["X-API-Version"] = version
        if auth is True:
            auth = self.sandbox.credentials
        url = f"{self.sandbox.url}/companies/{company_key or self.sandbox.company_key}{path}"
        return self.session.request(
            method, url, json=json, data=data, headers=headers, auth=auth or None, timeout=10
        )


@pytest.fixture
def api(vibes_sandbox):
    raw = RawApi(vibes_sandbox)
    yield raw
    raw.session.close()


def register_all(client, url: str, config: dict | None = None, **destination) -> None:
    """Register every callback type the sandbox emits to one destination: person callbacks
    once, subscription callbacks once per list and acquisition callbacks once per campaign
    of ``config`` (default: the demo config), as Vibes requires."""
    from vibes_integration.sandbox.config import load_config

    lists = load_config(config)["subscription_lists"]
    for callback_type in ("person_added", "person_updated"):
        client.register_callback(callback_type, url=url, **destination)
    for entry in lists:
        for callback_type in ("subscription_added", "subscription_removed"):
            client.register_callback(callback_type, url=url, list_id=entry["id"], **destination)
        for campaign in entry["acquisition_campaigns"]:
            for callback_type in ("ack_participant_added", "ack_participant_changed"):
                client.register_callback(
                    callback_type, url=url, campaign_id=campaign["id"], **destination
                )
