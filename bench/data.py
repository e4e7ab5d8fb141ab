"""Bench data that is the same in every measure: who the bench persons are.

Seeding writes persons in bulk (a benchmark needs 100,000 of them in seconds, and the
seeding is not what is measured); everything that is measured goes through the product's
own services, views, tasks and commands.
"""

from __future__ import annotations

import json

EXTERNAL_ID_PREFIX = "bench-"
PERSON_KEY_PREFIX = "pk-"
BENCH_LIST_ID = "1001"


def external_id(index: int) -> str:
    return f"{EXTERNAL_ID_PREFIX}{index}"


def person_key(index: int) -> str:
    return f"{PERSON_KEY_PREFIX}{index}"


def mdn(index: int) -> str:
    """A distinct, valid US mobile number for each index below 800,000."""
    if not 0 <= index < 800_000:
        raise ValueError("the bench numbers cover indexes 0 to 799,999")
    return f"+1201{200 + index // 10_000}{index % 10_000:04d}"


def subscription_added_body(event_id: str, index: int, list_id: str = BENCH_LIST_ID) -> bytes:
    """A ``subscription_added`` callback as Vibes sends it (same shape as ``ingest.lua``)."""
    key = person_key(index)
    person_url = f"/companies/demo/mobiledb/persons/{key}"
    return json.dumps(
        {
            "event_id": event_id,
            "callback_type": "subscription_added",
            "event_type": "subscription_added",
            "event_date": "2026-11-28T12:00:00Z",
            "delivery_attempt": "1",
            "subscription": {
                # The current reference's person: the deprecated numeric id beside the
                # person key (a different value), and the external id under both names.
                "person": {
                    "id": str(index),
                    "person_key": key,
                    "external_id": external_id(index),
                    "external_person_id": external_id(index),
                    "url": person_url,
                },
                "subscription_list": {
                    "id": list_id,
                    "url": f"/companies/demo/mobiledb/subscription_lists/{list_id}",
                },
                "opt_in_date": "2026-11-28T12:00:00Z",
                "url": f"{person_url}/subscriptions/{list_id}",
            },
        },
        separators=(",", ":"),
    ).encode()
