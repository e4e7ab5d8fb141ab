"""PostgreSQL: drop the ``_like`` twins of the ``event_id`` and ``callback_type`` indexes.

On PostgreSQL Django gives every indexed text column a second index with
``varchar_pattern_ops``, for ``LIKE 'prefix%'`` lookups. Nothing looks callback events up
by prefix (the admin's search and the endpoint's duplicate check are exact matches, which
the plain index serves), so each stored event wrote two index entries nobody reads. The
plain indexes stay; the model's state does not change (later migrations that touch these
fields drop the twins with ``DROP INDEX IF EXISTS``, so their absence is harmless). Other
databases have no such twins and nothing happens there. Dropping an index is quick
whatever the table's size; going back builds them again, which on millions of rows takes
as long as building any index on them.
"""

from django.db import migrations

COLUMNS = ("event_id", "callback_type")


def _pattern_indexes(schema_editor, model) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(
            cursor, model._meta.db_table
        )
    return [
        name
        for name, info in constraints.items()
        if name.endswith("_like") and info["index"] and info["columns"] in ([c] for c in COLUMNS)
    ]


def drop_pattern_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("vibes_callbacks", "CallbackEvent")
    for name in _pattern_indexes(schema_editor, model):
        schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_pattern_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    model = apps.get_model("vibes_callbacks", "CallbackEvent")
    present = set(_pattern_indexes(schema_editor, model))
    for column in COLUMNS:
        sql = schema_editor._create_like_index_sql(model, model._meta.get_field(column))
        if sql is not None and str(sql.parts["name"]).strip('"') not in present:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("vibes_callbacks", "0003_fewer_indexes_for_new_events"),
    ]

    operations = [
        migrations.RunPython(drop_pattern_indexes, create_pattern_indexes, elidable=False),
    ]
