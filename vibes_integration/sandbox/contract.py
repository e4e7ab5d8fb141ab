"""Which version of Vibes' contract the sandbox plays, where Vibes' own documents disagree.

Vibes' current reference pages, its older ("seed") integration page and its OpenAPI
document answer some operations differently. The sandbox can play each reading, chosen per
key below; the first value of each key is the default, the current reference:

``update_person_answer``
    ``created_no_body``: Update Person answers 201 with no body (current reference);
    ``ok_echo``: 200 with the very body the client submitted (the older page).
``update_by_unknown_external_id``
    ``not_found``: Update Person by an external id Vibes does not know answers 404;
    ``upsert``: it creates the person ("add or update a person record").
``callback_person``
    ``current``: the person in subscription and acquisition callbacks carries ``id`` (the
    deprecated numeric ``person_id``), ``person_key``, ``external_id`` and
    ``external_person_id`` (the same value), ``mobile_phone`` and ``url``;
    ``legacy``: ``id`` (the numeric ``person_id``), ``external_id`` and ``url`` only.
``add_person_answer``
    ``created_body``: Add Person answers 201 with the stored person;
    ``created_no_body``: 201 with no body.
"""

from __future__ import annotations

from typing import Any

CHOICES: dict[str, tuple[str, ...]] = {
    "update_person_answer": ("created_no_body", "ok_echo"),
    "update_by_unknown_external_id": ("not_found", "upsert"),
    "callback_person": ("current", "legacy"),
    "add_person_answer": ("created_body", "created_no_body"),
}

DEFAULT_CONTRACT: dict[str, str] = {key: values[0] for key, values in CHOICES.items()}


class ContractError(ValueError):
    """A contract key or value the sandbox does not know; the message lists the known ones."""


def clean_contract(values: Any, *, base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: the current reference) with ``values`` applied, every entry checked.

    Nothing is changed when any entry is refused.
    """
    if not isinstance(values, dict):
        raise ContractError(
            'contract must be an object such as {"update_person_answer": "ok_echo"}'
        )
    contract = dict(base or DEFAULT_CONTRACT)
    for key, value in values.items():
        if key not in CHOICES:
            raise ContractError(f"unknown contract key {key!r}; known keys: {sorted(CHOICES)}")
        if value not in CHOICES[key]:
            raise ContractError(
                f"contract {key} cannot be {value!r}; choose one of {list(CHOICES[key])}"
            )
        contract[key] = value
    return contract


def parse_assignments(assignments: list[str]) -> dict[str, str]:
    """``["key=value", ...]`` (as typed on a command line) as a checked contract dict."""
    values: dict[str, str] = {}
    for assignment in assignments:
        key, sign, value = assignment.partition("=")
        if not sign or not key.strip() or not value.strip():
            raise ContractError(
                f"{assignment!r} is not key=value (e.g. update_person_answer=ok_echo)"
            )
        values[key.strip()] = value.strip()
    clean_contract(values)
    return values
