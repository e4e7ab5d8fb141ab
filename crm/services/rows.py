"""One UPDATE for many rows, each with values of its own.

Django's ``bulk_update`` builds a ``CASE WHEN pk = ... THEN ...`` expression per field
and row and resolves each of them: for a batch of a hundred callbacks that costs more
time in Python than the per-row UPDATEs it replaces. Here the rows' values are one
``VALUES`` list joined by primary key (``UPDATE ... FROM``, PostgreSQL and SQLite 3.33+),
converted for the database by the fields themselves, as ``save()`` converts them.
Nothing else runs: no ``pre_save`` (set ``auto_now`` fields yourself) and no signals.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

# Keeps a statement's parameters well below SQLite's limit (32,766).
CHUNK_SIZE = 500


def rows_update(objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of each of ``objs`` (saved instances of one model) to its row."""
    for start in range(0, len(objs), CHUNK_SIZE):
        _update(objs[start : start + CHUNK_SIZE], fields)


def _update(objs: Sequence[Model], fields: Sequence[str]) -> None:
    if not objs:
        return
    model = type(objs[0])
    if not _supported():
        model._base_manager.bulk_update(objs, fields)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    if connection.vendor == "postgresql":
        placeholder = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in columns) + ")"
        names = ", ".join(f"c{i}" for i in range(len(columns)))
        source = f"v({names})"
        column = [f"v.c{i}" for i in range(len(columns))]
        target = f"{quote(meta.db_table)} AS t"
        key = f"t.{quote(meta.pk.column)}"
    else:
        placeholder = "(" + ", ".join("%s" for _ in columns) + ")"
        source = "v"
        column = [f"v.column{i + 1}" for i in range(len(columns))]
        target = quote(meta.db_table)
        key = f"{quote(meta.db_table)}.{quote(meta.pk.column)}"
    params: list[object] = []
    for obj in objs:
        params.extend(
            field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns
        )
    assignments = ", ".join(
        f"{quote(field.column)} = {column[i]}" for i, field in enumerate(columns) if i
    )
    values = ", ".join(placeholder for _ in objs)
    # Only names from the model's meta are interpolated; every value is a parameter.
    sql = (
        f"UPDATE {target} SET {assignments} FROM (VALUES {values}) AS {source} "  # noqa: S608
        f"WHERE {key} = {column[0]}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _supported() -> bool:
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        return connection.Database.sqlite_version_info >= (3, 33)
    return False
