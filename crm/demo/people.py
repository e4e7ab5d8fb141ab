"""Fictional people for the demo: names, places, numbers that reach nobody, and the values
of their custom fields.

The numbers are valid North American numbers in the 555-0100 to 555-0199 block, which
is reserved for fiction, spread over several real area codes.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from typing import Any

from crm.choices import CustomFieldType
from crm.models import CustomField

FIRST_NAMES = (
    "Ada", "Amara", "Ben", "Carmen", "Chen", "Dana", "Diego", "Elena", "Emeka", "Farah",
    "Gabriel", "Grace", "Hana", "Ibrahim", "Isla", "Jamal", "Jonas", "Keiko", "Lars", "Leila",
    "Mateo", "Maya", "Nadia", "Noah", "Olga", "Omar", "Priya", "Quinn", "Rafael", "Rosa",
    "Sam", "Sofia", "Tariq", "Tess", "Uma", "Victor", "Wren", "Xavier", "Yara", "Zoe",
)  # fmt: skip

LAST_NAMES = (
    "Abbott", "Alvarez", "Bauer", "Brennan", "Castillo", "Chowdhury", "Dubois", "Eriksen",
    "Fischer", "Garcia", "Haddad", "Hughes", "Ito", "Jensen", "Kaur", "Kowalski", "Lindqvist",
    "Lopez", "Mbeki", "Moreau", "Nakamura", "Novak", "Okafor", "Olsen", "Park", "Petrov",
    "Quintero", "Rossi", "Santos", "Schmidt", "Singh", "Sullivan", "Tanaka", "Thompson",
    "Ueda", "Varga", "Walsh", "Weber", "Yilmaz", "Zhang",
)  # fmt: skip

ZIP_CODES = ("98101", "98103", "98115", "97201", "97209", "97214", "83702", "83706", "98501")

SEGMENTS = ("new", "active", "outdoor-enthusiast", "lapsed", "vip")

AREA_CODES = (201, 202, 206, 212, 303, 312, 415, 503, 512, 617)
LINES_PER_AREA_CODE = 100

MAX_PERSONS = len(AREA_CODES) * LINES_PER_AREA_CODE


def demo_mdn(index: int) -> str:
    """The demo number of person ``index`` (0-based); distinct for every index below
    ``MAX_PERSONS``."""
    if not 0 <= index < MAX_PERSONS:
        raise ValueError(f"the demo has numbers for {MAX_PERSONS} persons")
    # Consecutive persons differ in their last four digits, which is what staff see of a
    # masked number.
    area_code = AREA_CODES[index // LINES_PER_AREA_CODE]
    line = 100 + index % LINES_PER_AREA_CODE
    return f"+1{area_code}5550{line:03d}"


def _date_between(rng: random.Random, first_year: int, last_year: int) -> datetime.date:
    return datetime.date(rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28))


_VALUE_BY_KEY: dict[str, Callable[[random.Random], Any]] = {
    "birthday": lambda rng: _date_between(rng, 1955, 2006),
    "member_since": lambda rng: _date_between(rng, 2012, 2024),
    "zip_code": lambda rng: rng.choice(ZIP_CODES),
    "shoe_size": lambda rng: rng.choice([6, 6.5, 7, 7.5, 8, 8.5, 9, 9.5, 10, 10.5, 11, 12, 13]),
    "household_size": lambda rng: rng.randint(1, 6),
    "crm_segment": lambda rng: rng.choice(SEGMENTS),
    "internal_score": lambda rng: rng.randint(0, 100),
}  # fmt: skip


def demo_custom_value(custom_field: CustomField, rng: random.Random) -> Any:
    """A plausible value of ``custom_field`` for a demo person: by the demo company's keys
    where it has them, else by the field's type."""
    by_key = _VALUE_BY_KEY.get(custom_field.key)
    if by_key is not None:
        return by_key(rng)
    keys = custom_field.option_keys
    field_type = custom_field.field_type
    if field_type == CustomFieldType.NUMBER:
        return rng.randint(0, 100)
    if field_type == CustomFieldType.DATE:
        return _date_between(rng, 2015, 2024)
    if field_type == CustomFieldType.BOOLEAN:
        return rng.random() < 0.5
    if field_type == CustomFieldType.CHOICE:
        return rng.choice(keys)
    if field_type == CustomFieldType.MULTIPLE_CHOICE:
        return rng.sample(keys, rng.randint(1, min(3, len(keys))))
    return rng.choice(SEGMENTS)
