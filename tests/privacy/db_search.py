"""Searches every column of every table for values, as a lawyer's "grep the database".

Every table the database has (not only the models': a new app's tables are searched too)
is read whole, and every value of every column, text, JSON or binary, is compared
case-insensitively with each needle. Answers (table, column, needle) for each find.
"""

from __future__ import annotations

from django.db import connection


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def database_search(needles: list[str]) -> list[tuple[str, str, str]]:
    wanted = [needle.lower() for needle in needles if needle]
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = _text(value).lower()
                    for needle in wanted:
                        if needle in text:
                            found.append((table, column, needle))
    return sorted(set(found))


def number_formats(e164: str) -> list[str]:
    """A US number as people and systems write it."""
    national = e164.removeprefix("+1")
    area, exchange, line = national[:3], national[3:6], national[6:]
    return [
        e164,
        e164.lstrip("+"),
        national,
        f"({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
        f"{area}.{exchange}.{line}",
        f"+1 {area} {exchange} {line}",
    ]
