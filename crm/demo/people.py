"""Fictional people for the demo: names, places and numbers that reach nobody.

The numbers are valid North American numbers in the 555-0100 to 555-0199 block, which
is reserved for fiction, spread over several real area codes.
"""

from __future__ import annotations

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
