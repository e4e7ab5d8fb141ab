"""The sandbox's company: its records, lookups, and the events it emits.

One ``Sandbox`` holds everything one running sandbox knows: the seed config, the records
(``Store``), fault knobs, and the callback delivery queue. HTTP handlers take ``lock``
while they read and change records, so each request sees and leaves a consistent state.
"""

from __future__ import annotations

import copy
import random
import threading
import uuid
from pathlib import Path
from typing import Any

from vibes_integration.sandbox import clock
from vibes_integration.sandbox.config import load_config
from vibes_integration.sandbox.contract import clean_contract
from vibes_integration.sandbox.custom_fields import defined_fields
from vibes_integration.sandbox.delivery import DeliveryQueue
from vibes_integration.sandbox.events import emit_subscription
from vibes_integration.sandbox.faults import Faults
from vibes_integration.sandbox.store import Store


class Sandbox:
    """State and behaviour shared by the Vibes API, the control API and the phone."""

    def __init__(
        self, config: dict[str, Any] | str | Path | None, state_path: str | Path | None = None
    ) -> None:
        self.lock = threading.RLock()
        self.config = load_config(config)
        self.store = Store(state_path)
        self.faults = Faults(self.config)
        # The reading of Vibes' documents being played; the config's until changed.
        self.contract: dict[str, str] = dict(self.config["contract"])
        self.rng = random.Random()
        self.delivery = DeliveryQueue(self)
        self._by_mdn: dict[str, str] = {}
        self._by_external: dict[str, str] = {}
        self._subscriptions: dict[tuple[str, str], list[str]] = {}
        self._subscriptions_by_person: dict[str, list[str]] = {}
        self._participants_by_mdn: dict[str, list[str]] = {}
        if self.store.is_empty:
            self._mark_seeded()
        self._reindex()

    # -- lifecycle ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every record, delivery and fault; keep the current config."""
        with self.lock:
            self.delivery.clear()
            self.store.clear()
            self.faults.reset(self.config)
            self.contract = dict(self.config["contract"])
            self.rng = random.Random()
            self._mark_seeded()
            self._reindex()

    def seed(self, config: dict[str, Any] | str | Path) -> None:
        """Replace the config and start from empty (records, registrations, faults)."""
        new_config = load_config(config)
        with self.lock:
            self.config = new_config
            self.reset()

    def set_contract(self, values: dict[str, Any]) -> dict[str, str]:
        """Play another reading for some keys (``contract.CHOICES``); answers them all."""
        with self.lock:
            self.contract = clean_contract(values, base=self.contract)
            return dict(self.contract)

    def _mark_seeded(self) -> None:
        self.store.put("meta", "seeded_at", {"value": clock.iso(clock.now())})

    def _reindex(self) -> None:
        self._by_mdn = {}
        self._by_external = {}
        self._subscriptions = {}
        self._subscriptions_by_person = {}
        self._participants_by_mdn = {}
        for person in self.store.all("person"):
            self._index_person(person)
        for record in sorted(self.store.all("subscription"), key=lambda item: item["seq"]):
            self._index_subscription(record)
        for participant in sorted(self.store.all("participant"), key=lambda item: item["seq"]):
            self._participants_by_mdn.setdefault(participant["mdn"], []).append(participant["id"])

    @property
    def company_key(self) -> str:
        return self.config["company_key"]

    @property
    def seeded_at(self) -> str:
        meta = self.store.get("meta", "seeded_at")
        return meta["value"] if meta else clock.iso(clock.now())

    def url(self, path: str) -> str:
        """A resource URL relative to the host, as Vibes writes them in bodies."""
        return f"/companies/{self.company_key}{path}"

    # -- persons ------------------------------------------------------------------------------

    def person(self, person_key: str) -> dict[str, Any] | None:
        return self.store.get("person", person_key)

    def person_by_mdn(self, mdn: str | None) -> dict[str, Any] | None:
        key = self._by_mdn.get(mdn or "")
        return self.person(key) if key else None

    def person_by_external_id(self, external_person_id: str | None) -> dict[str, Any] | None:
        key = self._by_external.get(external_person_id or "")
        return self.person(key) if key else None

    def create_person(
        self,
        *,
        external_person_id: str | None = None,
        mdn: str | None = None,
        carrier_code: str | None = None,
        custom_fields: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        stamp = clock.iso(clock.now())
        person = {
            "person_key": uuid.uuid4().hex,
            "person_id": self.store.next_id("person_id"),
            "external_person_id": external_person_id,
            "mdn": mdn,
            "carrier_code": (carrier_code or self.config["carrier_code"]) if mdn else None,
            "custom_fields": {k: v for k, v in (custom_fields or {}).items() if v is not None},
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.save_person(person)
        return person

    def save_person(self, person: dict[str, Any], *, previous: dict[str, Any] | None = None):
        if previous is not None:
            if previous.get("mdn") and self._by_mdn.get(previous["mdn"]) == person["person_key"]:
                del self._by_mdn[previous["mdn"]]
            old_external = previous.get("external_person_id")
            if old_external and self._by_external.get(old_external) == person["person_key"]:
                del self._by_external[old_external]
        self.store.put("person", person["person_key"], person)
        self._index_person(person)

    def _index_person(self, person: dict[str, Any]) -> None:
        if person.get("mdn"):
            self._by_mdn[person["mdn"]] = person["person_key"]
        if person.get("external_person_id"):
            self._by_external[person["external_person_id"]] = person["person_key"]

    def custom_field_definitions(self) -> dict[str, dict[str, Any]]:
        return defined_fields(self.config)

    # -- lists and campaigns ------------------------------------------------------------------

    def subscription_list(self, list_id: str) -> dict[str, Any] | None:
        for entry in self.config["subscription_lists"]:
            if entry["id"] == str(list_id):
                return entry
        return None

    def campaign(self, acquisition_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The campaign and the list it opts people in to."""
        for entry in self.config["subscription_lists"]:
            for campaign in entry["acquisition_campaigns"]:
                if campaign["id"] == str(acquisition_id):
                    return campaign, entry
        return None

    def keyword_target(self, text: str) -> tuple[dict[str, Any] | None, dict[str, Any]] | None:
        """The (campaign, list) a texted keyword joins, matching lists' and campaigns' keywords."""
        word = text.strip().upper()
        if not word:
            return None
        for entry in self.config["subscription_lists"]:
            for campaign in entry["acquisition_campaigns"]:
                if str(campaign.get("keyword") or "").upper() == word:
                    return campaign, entry
            if str(entry.get("keyword") or "").upper() == word:
                campaigns = entry["acquisition_campaigns"]
                return (campaigns[0] if campaigns else None), entry
        return None

    # -- subscriptions ------------------------------------------------------------------------

    def subscriptions_of(self, person_key: str, list_id: str | None = None) -> list[dict]:
        if list_id is not None:
            ids = self._subscriptions.get((person_key, str(list_id)), [])
        else:
            ids = self._subscriptions_by_person.get(person_key, [])
        return [self.store.get("subscription", record_id) for record_id in ids]

    def _index_subscription(self, record: dict[str, Any]) -> None:
        key = (record["person_key"], record["list_id"])
        self._subscriptions.setdefault(key, []).append(record["id"])
        self._subscriptions_by_person.setdefault(record["person_key"], []).append(record["id"])

    def active_subscription(self, person_key: str, list_id: str) -> dict[str, Any] | None:
        for record in reversed(self.subscriptions_of(person_key, list_id)):
            if not record.get("opt_out_date"):
                return record
        return None

    def subscribe(
        self, person: dict[str, Any], subscription_list: dict[str, Any], campaign_id: str | None
    ) -> dict[str, Any]:
        """Open a new subscription record and announce it (``subscription_added``)."""
        seq = self.store.next_id("subscription")
        record = {
            "id": f"S{seq}",
            "seq": seq,
            "person_key": person["person_key"],
            "list_id": subscription_list["id"],
            "acquisition_campaign_id": campaign_id,
            "opt_in_date": clock.iso(clock.now()),
            "opt_out_date": None,
            "opt_out_reason": None,
        }
        self.store.put("subscription", record["id"], record)
        self._index_subscription(record)
        emit_subscription(self, "subscription_added", record)
        return record

    def unsubscribe(self, record: dict[str, Any], reason: str) -> dict[str, Any]:
        """Close an active subscription record and announce it (``subscription_removed``)."""
        record = copy.deepcopy(record)
        record["opt_out_date"] = clock.iso(clock.now())
        record["opt_out_reason"] = reason
        self.store.put("subscription", record["id"], record)
        emit_subscription(self, "subscription_removed", record)
        return record

    # -- web opt-in requests -------------------------------------------------------------------

    def add_participant_record(self, participant: dict[str, Any]) -> dict[str, Any]:
        self.store.put("participant", participant["id"], participant)
        self._participants_by_mdn.setdefault(participant["mdn"], []).append(participant["id"])
        return participant

    def participants_of(self, mdn: str | None) -> list[dict[str, Any]]:
        """Opt-in requests of one number (or of all numbers), oldest first."""
        if mdn is None:
            return sorted(self.store.all("participant"), key=lambda item: item["seq"])
        ids = self._participants_by_mdn.get(mdn, [])
        return [self.store.get("participant", participant_id) for participant_id in ids]

    # -- texts --------------------------------------------------------------------------------

    def text(self, mdn: str, body: str, *, direction: str = "out") -> dict[str, Any]:
        """Record a text sent to (``out``) or received from (``in``) a number."""
        message_id = self.store.next_id("message")
        message = {
            "id": message_id,
            "mdn": mdn,
            "direction": direction,
            "text": body,
            "date": clock.iso(clock.now()),
        }
        self.store.put("message", f"{message_id:012d}", message)
        return message

    def messages(self, mdn: str | None = None) -> list[dict[str, Any]]:
        records = sorted(self.store.all("message"), key=lambda message: message["id"])
        return [message for message in records if mdn is None or message["mdn"] == mdn]

    def close(self) -> None:
        self.delivery.stop()
        self.store.close()
