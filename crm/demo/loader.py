"""Loads the demo: the lists and custom fields of the demo Vibes company, and a few hundred
fictional persons with subscriptions in every state and the consent history behind them.

Everything is written through ``crm.services`` with ``Source.IMPORT``, like a real import.
The persons are generated from a seed per person, so the demo is the same on every machine
(its dates are relative to the time of loading), and a person whose external id already
exists is left alone: loading twice changes nothing. The lists and custom fields come from
the same file as the local Vibes sandbox's, so both sides agree on them.
"""

from __future__ import annotations

import datetime
import json
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import services
from crm.choices import (
    CustomFieldType,
    OptInStatus,
    OptOutReason,
    Source,
    SubscriptionState,
)
from crm.demo.people import FIRST_NAMES, LAST_NAMES, MAX_PERSONS, demo_custom_value, demo_mdn
from crm.models import CustomField, Person, SubscriptionList

DEFAULT_PERSONS = 300
EXTERNAL_ID_PREFIX = "demo-"
SEED = "prefcenter-demo-1"
# The demo's Vibes person keys are derived from its external ids, so that the CRM and the
# sandbox seeded with the same demo know each person by the same key.
PERSON_KEY_NAMESPACE = uuid.UUID("6f1c2d9e-4b7a-4f0e-9a35-0d8c1e2b7a41")

USER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Safari/537.36",
)

# How a person's history on one list goes, and how often.
STORIES = (
    ("none", 40),
    ("subscribed", 30),
    ("left", 12),
    ("rejoined", 4),
    ("pending", 6),
    ("rejected", 4),
    ("expired", 4),
)
OPT_OUT_REASONS = (
    OptOutReason.USER_OPT_OUT,
    OptOutReason.KEYWORD_OPT_OUT,
    OptOutReason.BUTTON_OPT_OUT,
    OptOutReason.DISCONNECT,
)


class DemoConfigError(Exception):
    """The demo configuration file is missing or malformed."""


@dataclass
class DemoResult:
    lists_created: int = 0
    custom_fields_created: int = 0
    custom_fields_updated: int = 0
    persons_created: int = 0
    persons_existing: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.lists_created
            or self.custom_fields_created
            or self.custom_fields_updated
            or self.persons_created
        )


def default_config_path() -> Path:
    return Path(settings.BASE_DIR) / "vibes_integration" / "sandbox" / "configs" / "demo.json"


def read_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DemoConfigError(f"{path}: cannot be read ({exc.strerror}).") from exc
    except ValueError as exc:
        raise DemoConfigError(f"{path}: not valid JSON ({exc}).") from exc
    if not isinstance(config, dict):
        raise DemoConfigError(f"{path}: expected a JSON object.")
    for section, required in (("subscription_lists", ("id", "name")), ("custom_fields", ("key",))):
        entries = config.get(section, [])
        if not isinstance(entries, list):
            raise DemoConfigError(f"{path}: {section} must be a list.")
        for position, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise DemoConfigError(f"{path}: {section}[{position}] must be an object.")
            missing = [name for name in required if not entry.get(name)]
            if missing:
                raise DemoConfigError(f"{path}: {section}[{position}] has no {', '.join(missing)}.")
    return config


def load_demo(
    *,
    persons: int = DEFAULT_PERSONS,
    config_path: Path | None = None,
    seed: Callable[[Iterable[Person]], object] | None = None,
) -> DemoResult:
    """Load the demo in one transaction; raise ``DemoConfigError`` or ``ValidationError``
    (and write nothing) when the configuration is bad.

    ``seed`` is given the persons created, inside the transaction, to give the same
    world to Vibes (``vibes_integration.demo_seed``); whatever it raises undoes the whole
    load.
    """
    if not 0 <= persons <= MAX_PERSONS:
        raise ValueError(f"persons must be between 0 and {MAX_PERSONS}")
    path = config_path or default_config_path()
    config = read_config(path)
    result = DemoResult()
    # Histories end at the time of loading: dates are relative to it, so that the demo's
    # web opt-ins are as recent as the requests the database stamps with today's date.
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        lists = _load_lists(config["subscription_lists"], result)
        custom_fields = _load_custom_fields(config.get("custom_fields", []), result, path)
        existing = set(
            Person.objects.filter(external_person_id__startswith=EXTERNAL_ID_PREFIX).values_list(
                "external_person_id", flat=True
            )
        )
        created = []
        for index in range(persons):
            if demo_external_id(index) in existing:
                result.persons_existing += 1
                continue
            created.append(_create_person(index, lists, custom_fields, now))
            result.persons_created += 1
        if seed is not None:
            seed(created)
    return result


def demo_external_id(index: int) -> str:
    return f"{EXTERNAL_ID_PREFIX}{index + 1:04d}"


def demo_person_key(index: int) -> str:
    return uuid.uuid5(PERSON_KEY_NAMESPACE, demo_external_id(index)).hex


def _load_lists(entries: list[dict[str, Any]], result: DemoResult) -> list[SubscriptionList]:
    lists = []
    for position, entry in enumerate(entries, start=1):
        campaigns = entry.get("acquisition_campaigns") or []
        subscription_list, created = services.subscription_list_upsert(
            list_id=str(entry["id"]),
            source=Source.IMPORT,
            name=entry["name"],
            description=entry.get("description", ""),
            disclosure=entry.get("disclosure", ""),
            keyword=entry.get("keyword", ""),
            acquisition_campaign_id=str(campaigns[0]["id"]) if campaigns else "",
            shown_in_preference_center=True,
            order=int(entry.get("order", position)),
        )
        result.lists_created += created
        lists.append(subscription_list)
    return lists


def _load_custom_fields(
    entries: list[dict[str, Any]], result: DemoResult, path: Path
) -> list[CustomField]:
    """Create or update the custom field definitions. Entries with ``crm_field`` are the
    person's own columns (name, email) in Vibes and are not custom fields here."""
    custom_fields = []
    for position, entry in enumerate(entries, start=1):
        if entry.get("crm_field"):
            continue
        field_type = entry.get("type", CustomFieldType.TEXT)
        if field_type not in CustomFieldType.values:
            raise DemoConfigError(f"{path}: custom field {entry['key']} has unknown type.")
        values = {
            "label": entry.get("label") or entry["key"],
            "field_type": field_type,
            "options": entry.get("options", []),
            "help_text": entry.get("help_text", ""),
            "required": bool(entry.get("required", False)),
            "visible_to_subscribers": bool(entry.get("visible_to_subscribers", True)),
            "editable_by_subscribers": bool(entry.get("editable_by_subscribers", True)),
            "synced_to_vibes": bool(entry.get("synced_to_vibes", True)),
            "order": position,
        }
        custom_field = CustomField.objects.filter(key=entry["key"]).first()
        if custom_field is None:
            custom_field = CustomField(key=entry["key"], **values)
            result.custom_fields_created += 1
        elif any(getattr(custom_field, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(custom_field, name, value)
            result.custom_fields_updated += 1
        else:
            custom_fields.append(custom_field)
            continue
        custom_field.full_clean()
        custom_field.save()
        custom_fields.append(custom_field)
    return custom_fields


def _create_person(
    index: int,
    lists: list[SubscriptionList],
    custom_fields: list[CustomField],
    now: datetime.datetime,
) -> Person:
    rng = random.Random(f"{SEED}:{index}")
    first_name = rng.choice(FIRST_NAMES)
    last_name = rng.choice(LAST_NAMES)
    has_mdn = rng.random() > 0.08
    has_email = rng.random() > 0.15
    values = {
        custom_field.key: demo_custom_value(custom_field, rng)
        for custom_field in custom_fields
        if rng.random() < 0.8
    }
    person = services.person_create(
        external_person_id=demo_external_id(index),
        person_key=demo_person_key(index),
        source=Source.IMPORT,
        first_name=first_name,
        last_name=last_name,
        email=f"{first_name}.{last_name}.{index + 1}@example.com".lower() if has_email else "",
        mdn=demo_mdn(index) if has_mdn else None,
        custom_fields=values,
    )
    if has_mdn:
        for subscription_list in lists:
            story = rng.choices([s for s, _w in STORIES], weights=[w for _s, w in STORIES])[0]
            _play_story(story, person, subscription_list, rng, now)
    elif lists and rng.random() < 0.5:
        # Someone without a confirmed number who typed one into the preference center.
        _play_story("pending", person, rng.choice(lists), rng, now, mdn=demo_mdn(index))
    return person


def _play_story(
    story: str,
    person: Person,
    subscription_list: SubscriptionList,
    rng: random.Random,
    now: datetime.datetime,
    mdn: str | None = None,
) -> None:
    joined = now - datetime.timedelta(days=rng.randint(20, 720), seconds=rng.randint(0, 86399))
    if story == "none":
        return
    if story in {"pending", "rejected", "expired"}:
        # Web opt-ins are answered or lapse within days: these happened lately.
        asked = now - datetime.timedelta(minutes=rng.randint(120, 2 * 24 * 60))
        _web_opt_in(story, person, subscription_list, rng, asked, mdn or str(person.mdn))
        return
    _subscribe(person, subscription_list, rng, joined)
    if story in {"left", "rejoined"}:
        left = _later(joined, rng, now)
        services.subscription_change(
            person=person,
            subscription_list=subscription_list,
            state=SubscriptionState.UNSUBSCRIBED,
            source=Source.IMPORT,
            event_date=left,
            opt_out_date=left,
            opt_out_reason=rng.choice(OPT_OUT_REASONS),
            consent=services.ConsentContext(occurred_at=left, reference="demo:opt-out"),
        )
        if story == "rejoined":
            _subscribe(person, subscription_list, rng, _later(left, rng, now))


def _later(
    moment: datetime.datetime, rng: random.Random, now: datetime.datetime
) -> datetime.datetime:
    return min(moment + datetime.timedelta(days=rng.randint(1, 200)), now)


def _subscribe(
    person: Person,
    subscription_list: SubscriptionList,
    rng: random.Random,
    moment: datetime.datetime,
) -> None:
    if subscription_list.keyword and rng.random() < 0.4:
        consent = services.ConsentContext(
            occurred_at=moment,
            disclosure_text="",
            reference=f"demo:keyword {subscription_list.keyword}",
        )
    else:
        consent = _web_consent(subscription_list, rng, moment)
    services.subscription_change(
        person=person,
        subscription_list=subscription_list,
        state=SubscriptionState.SUBSCRIBED,
        source=Source.IMPORT,
        event_date=moment,
        opt_in_date=moment,
        consent=consent,
    )


def _web_consent(
    subscription_list: SubscriptionList, rng: random.Random, moment: datetime.datetime
) -> services.ConsentContext:
    return services.ConsentContext(
        occurred_at=moment,
        ip_address=f"198.51.100.{rng.randint(1, 254)}",
        user_agent=rng.choice(USER_AGENTS),
        disclosure_text=subscription_list.disclosure,
        reference="demo:web",
    )


def _web_opt_in(
    story: str,
    person: Person,
    subscription_list: SubscriptionList,
    rng: random.Random,
    moment: datetime.datetime,
    mdn: str,
) -> None:
    [request] = services.opt_in_request(
        person=person,
        mdn=mdn,
        subscription_lists=[subscription_list],
        source=Source.IMPORT,
        consent=_web_consent(subscription_list, rng, moment),
    )
    answered = moment + datetime.timedelta(minutes=rng.randint(1, 90))
    status, message = {
        "pending": (OptInStatus.PENDING, _("Waiting for your reply to our text.")),
        "rejected": (OptInStatus.REJECTED, _("You replied no to our text.")),
        "expired": (OptInStatus.EXPIRED, _("The confirmation text was not answered in time.")),
    }[story]
    services.opt_in_request_update(
        opt_in_request=request,
        status=status,
        source=Source.IMPORT,
        message=message,
        event_date=answered,
    )
