"""``SandboxControl``: the control API from Python, for tests, benchmarks and the demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from vibes_integration.sandbox.config import DEMO_CONFIG_PATH


class SandboxControlError(RuntimeError):
    """The control API refused a request; the message is the sandbox's explanation."""


class SandboxControl:
    """Steers a running sandbox at ``url`` (its base URL, without ``/_sandbox``)."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _call(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        response = self._session.request(
            method,
            f"{self.url}/_sandbox/{path}",
            json=json,
            params=params,
            timeout=self.timeout,
        )
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise SandboxControlError(f"{method} /_sandbox/{path}: {message}")
        return response.json() if response.content else None

    # -- state ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget persons, subscriptions, texts, registrations, logs and faults."""
        self._call("POST", "reset")

    def seed(self, config: dict[str, Any] | str | Path | None = None) -> None:
        """Replace the config (a dict, or a JSON file path; default the demo) and reset.

        The sandbox validates it and keeps its current config when it is refused.
        """
        if config is None or isinstance(config, str | Path):
            config = json.loads(Path(config or DEMO_CONFIG_PATH).read_text(encoding="utf-8"))
        self._call("POST", "seed", json=config)

    def config(self) -> dict[str, Any]:
        return self._call("GET", "config")

    def persons(self) -> list[dict[str, Any]]:
        return self._call("GET", "persons")

    def subscriptions(self) -> list[dict[str, Any]]:
        return self._call("GET", "subscriptions")

    def participants(self) -> list[dict[str, Any]]:
        return self._call("GET", "participants")

    def blocks(self) -> list[dict[str, Any]]:
        return self._call("GET", "blocks")

    def callbacks(self) -> list[dict[str, Any]]:
        """Callback registrations, with their API version and filter."""
        return self._call("GET", "callbacks")

    # -- logs -------------------------------------------------------------------------------

    def calls(self, since_id: int | None = None) -> list[dict[str, Any]]:
        """Vibes API calls received: id, method, path, query, headers, body, status, response."""
        params = {"since_id": since_id} if since_id is not None else None
        return self._call("GET", "calls", params=params)

    def clear_calls(self) -> None:
        self._call("DELETE", "calls")

    def deliveries(self, since_id: int | None = None) -> list[dict[str, Any]]:
        """Callback delivery attempts: event_id, type, url, method, content_type, attempt,
        status, outcome, body."""
        params = {"since_id": since_id} if since_id is not None else None
        return self._call("GET", "deliveries", params=params)

    def wait_for_deliveries(self, timeout: float = 10) -> None:
        """Block until no callback is queued, waiting to retry or being sent."""
        result = self._call("GET", "deliveries/wait", params={"timeout": timeout})
        if not result["idle"]:
            raise TimeoutError(
                f"{result['pending']} callback deliveries still pending after {timeout} s"
            )

    # -- the contract played -------------------------------------------------------------------

    def set_contract(self, **values: str) -> dict[str, str]:
        """Play another reading of Vibes' documents for some keys (see
        ``vibes_integration.sandbox.contract``); answers every key's value. Reset and seed
        go back to the config's values."""
        return self._call("POST", "contract", json=values)

    def contract(self) -> dict[str, str]:
        return self._call("GET", "contract")

    # -- faults and events ------------------------------------------------------------------

    def set_faults(self, **knobs: Any) -> dict[str, Any]:
        """Change fault knobs (see ``vibes_integration.sandbox.faults``); answers them all."""
        return self._call("POST", "faults", json=knobs)

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "faults")

    def trigger(self, callback_type: str, **payload: Any) -> dict[str, Any]:
        """Send one callback event; answers the body queued (see ``sandbox.triggers``)."""
        return self._call("POST", "trigger", json={"callback_type": callback_type, **payload})

    def expire_pending(self, mdn: str | None = None) -> int:
        """Let pending web opt-ins lapse now (all, or one number's)."""
        return self._call("POST", "participants/expire", json={"mdn": mdn})["expired"]

    def upsert_list(self, **entry: Any) -> dict[str, Any]:
        """Add or change a subscription list (announced by a subscription_list_* callback)."""
        return self._call("POST", "lists", json=entry)

    # -- the phone --------------------------------------------------------------------------

    def import_records(self, persons: list[dict[str, Any]]) -> dict[str, int]:
        """Store persons with their subscriptions and opt-ins as given, announcing nothing."""
        return self._call("POST", "import", json={"persons": persons})

    def phone_reply(self, mdn: str, text: str) -> dict[str, Any]:
        """Text ``text`` from ``mdn`` (Y, N, STOP, HELP or a keyword); answers what happened."""
        return self._call("POST", "phone/reply", json={"mdn": mdn, "text": text})

    def landing_page(self, mdn: str, campaign_id: str) -> dict[str, Any]:
        """``mdn`` signs up on the campaign's Vibes-hosted landing page (a double opt-in
        that gives a new person no external id); answers Add Participant's ``status`` and
        ``answer``."""
        return self._call("POST", "landing_page", json={"mdn": mdn, "campaign_id": campaign_id})

    def phone_messages(self, mdn: str | None = None) -> list[dict[str, Any]]:
        """Texts sent to (direction "out") and received from ("in") a number, oldest first."""
        params = {"mdn": mdn} if mdn else None
        return self._call("GET", "phone/messages", params=params)

    def close(self) -> None:
        self._session.close()
