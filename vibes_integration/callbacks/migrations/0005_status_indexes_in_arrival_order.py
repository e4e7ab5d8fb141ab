"""Callback events in arrival order: one index entry fewer per delivery, a claim that scans nothing.

- ``received_at`` loses its index. The log is listed newest first by ``id`` (the primary
  key), which is arrival order; the admin no longer offers a date hierarchy, whose
  "which dates have events" query read the whole table on every page view.
- The ``(status, received_at)`` index becomes two partial ones. ``vibes_cb_waiting``
  holds only the events waiting for processing, keyed by ``id``: exactly the order in
  which processing claims them (``status = 'received' AND id > ? ORDER BY id``), so a
  backlog of any size is read from its start without sorting. ``vibes_cb_settled_status``
  holds the events staff look for by status (failed, invalid, stale, ignored, resolved);
  "processed", nearly every row, needs no index to list its newest.

The column index is dropped by the name found in the database: changing ``db_index``
through ``AlterField`` would make SQLite copy the whole table. What the new indexes cost
on a large table is in docs/callbacks.md ("Storing many events").
"""

import django.utils.timezone
from django.db import migrations, models


def drop_received_at_index(apps, schema_editor):
    model = apps.get_model("vibes_callbacks", "CallbackEvent")
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(
            cursor, model._meta.db_table
        )
    for name, info in constraints.items():
        if (
            info["index"]
            and not info["unique"]
            and info["columns"] == ["received_at"]
            and not name.startswith("vibes_cb_")
        ):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_received_at_index(apps, schema_editor):
    """Going back: the index ``db_index=True`` gives the field (historical state)."""
    model = apps.get_model("vibes_callbacks", "CallbackEvent")
    for sql in schema_editor._field_indexes_sql(model, model._meta.get_field("received_at")):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("vibes_callbacks", "0004_drop_pattern_indexes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="callbackevent",
            options={
                "ordering": ["-id"],
                "permissions": [
                    ("replay_callbackevent", "Can replay and resolve callback events")
                ],
                "verbose_name": "callback event",
                "verbose_name_plural": "callback events",
            },
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="callbackevent",
                    name="received_at",
                    field=models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="received"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_received_at_index, create_received_at_index),
            ],
        ),
        migrations.RemoveIndex(model_name="callbackevent", name="vibes_cb_status_received"),
        migrations.AddIndex(
            model_name="callbackevent",
            index=models.Index(
                condition=models.Q(status="received"), fields=["id"], name="vibes_cb_waiting"
            ),
        ),
        migrations.AddIndex(
            model_name="callbackevent",
            index=models.Index(
                condition=~models.Q(status__in=["received", "processed"]),
                fields=["status", "id"],
                name="vibes_cb_settled_status",
            ),
        ),
    ]
