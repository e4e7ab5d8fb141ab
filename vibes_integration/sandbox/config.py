"""The sandbox's seed configuration: one company, its credentials, lists, campaigns, fields.

The same JSON file seeds the sandbox, the demo data and the tests, so it is read here
leniently (fields the sandbox does not need, such as ``crm_field``, are ignored) but
checked strictly for what it does need, with errors that name the bad entry.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from vibes_integration.sandbox.contract import DEFAULT_CONTRACT, ContractError, clean_contract

DEMO_CONFIG_PATH = Path(__file__).resolve().parent / "configs" / "demo.json"

CUSTOM_FIELD_TYPES = {"text", "number", "date", "boolean", "choice", "multiple_choice"}

DEFAULTS: dict[str, Any] = {
    "rate_limit": 100,
    "pending_ttl_seconds": 86400,
    "carrier_code": "104",
    "timezone": "America/New_York",
    "default_region": "US",
    "landline_mdns": [],
    "delivery": {
        "max_attempts": 5,
        "backoff_seconds": 0.05,
        "backoff_factor": 2.0,
        "timeout_seconds": 5.0,
        "workers": 1,
    },
    # Which reading of Vibes' documents to play where they disagree (see ``contract``).
    "contract": dict(DEFAULT_CONTRACT),
}


class ConfigError(ValueError):
    """The sandbox configuration cannot be used; the message says which entry and why."""


def load_config(source: dict[str, Any] | str | Path | None) -> dict[str, Any]:
    """A validated copy of ``source`` (a dict, or the path of a JSON file) with defaults."""
    if source is None:
        source = DEMO_CONFIG_PATH
    if isinstance(source, str | Path):
        path = Path(source)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read sandbox config {path}: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"sandbox config {path} is not valid JSON: {exc}") from exc
    else:
        raw = copy.deepcopy(source)
    if not isinstance(raw, dict):
        raise ConfigError("the sandbox config must be a JSON object")
    return _validated(raw)


def _validated(raw: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(DEFAULTS)
    config["delivery"] = {**DEFAULTS["delivery"], **(raw.get("delivery") or {})}
    for key, value in raw.items():
        if key not in ("delivery", "contract"):
            config[key] = value
    try:
        config["contract"] = clean_contract(
            raw["contract"] if raw.get("contract") is not None else {}
        )
    except ContractError as exc:
        raise ConfigError(f"contract: {exc}") from exc
    if not isinstance(config.get("company_key"), str) or not config["company_key"]:
        raise ConfigError("company_key: a non-empty string is required")
    credentials = config.get("credentials")
    if not isinstance(credentials, list) or not credentials:
        raise ConfigError("credentials: a list of {username, password} is required")
    for index, entry in enumerate(credentials):
        if not isinstance(entry, dict) or not entry.get("username") or not entry.get("password"):
            raise ConfigError(f"credentials[{index}]: username and password are required")
    config.setdefault("subscription_lists", [])
    config.setdefault("custom_fields", [])
    _check_lists(config["subscription_lists"])
    _check_custom_fields(config["custom_fields"])
    if config["rate_limit"] is not None and not isinstance(config["rate_limit"], int | float):
        raise ConfigError("rate_limit: a number of requests per second, or null for none")
    return config


def _check_lists(lists: Any) -> None:
    if not isinstance(lists, list):
        raise ConfigError("subscription_lists: a list is required")
    list_ids: set[str] = set()
    campaign_ids: set[str] = set()
    keywords: set[str] = set()
    for index, entry in enumerate(lists):
        where = f"subscription_lists[{index}]"
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("name"):
            raise ConfigError(f"{where}: id and name are required")
        entry["id"] = str(entry["id"])
        if entry["id"] in list_ids:
            raise ConfigError(f"{where}: duplicate list id {entry['id']}")
        list_ids.add(entry["id"])
        keyword = str(entry.get("keyword") or "").upper()
        if keyword:
            if keyword in keywords:
                raise ConfigError(f"{where}: keyword {keyword} is used twice")
            keywords.add(keyword)
        for c_index, campaign in enumerate(entry.setdefault("acquisition_campaigns", [])):
            c_where = f"{where}.acquisition_campaigns[{c_index}]"
            if not isinstance(campaign, dict) or not campaign.get("id"):
                raise ConfigError(f"{c_where}: id is required")
            campaign["id"] = str(campaign["id"])
            if campaign["id"] in campaign_ids:
                raise ConfigError(f"{c_where}: duplicate campaign id {campaign['id']}")
            campaign_ids.add(campaign["id"])
            opt_in = campaign.setdefault("opt_in", "double")
            if opt_in not in ("double", "single"):
                raise ConfigError(f"{c_where}: opt_in must be 'double' or 'single'")


def _check_custom_fields(fields: Any) -> None:
    if not isinstance(fields, list):
        raise ConfigError("custom_fields: a list is required")
    seen: set[str] = set()
    for index, entry in enumerate(fields):
        where = f"custom_fields[{index}]"
        if not isinstance(entry, dict) or not entry.get("key"):
            raise ConfigError(f"{where}: key is required")
        field_type = entry.setdefault("type", "text")
        if field_type not in CUSTOM_FIELD_TYPES:
            raise ConfigError(
                f"{where}: type {field_type!r} is not one of {sorted(CUSTOM_FIELD_TYPES)}"
            )
        if entry["key"] in seen:
            raise ConfigError(f"{where}: duplicate key {entry['key']}")
        seen.add(entry["key"])
        if field_type in ("choice", "multiple_choice") and not entry.get("options"):
            raise ConfigError(f"{where}: a {field_type} field needs options")
