"""Fewer index entries per stored callback: the INSERT the endpoint makes touches 4 indexes, not 10.

- ``status`` loses its own index (and, on PostgreSQL, its ``_like`` twin): the
  ``(status, received_at)`` index serves every query on status.
- ``person_key``, ``external_person_id``, ``mdn``, ``person`` and ``subscription_list``
  are empty when an event arrives and filled by processing; their indexes now hold only
  the rows where they are filled, so storing an event adds nothing to them.

The column indexes Django made for ``status`` and the two foreign keys are dropped by
name as found in the database: changing ``db_index`` through ``AlterField`` would make
SQLite copy the whole table. Nothing here rewrites the table on either database.
What it costs on a large table is in docs/callbacks.md ("Storing many events").
"""

from django.db import migrations, models

import django.db.models.deletion

TABLE_COLUMNS = ("status", "person_id", "subscription_list_id")
FIELDS = ("status", "person", "subscription_list")


def drop_column_indexes(apps, schema_editor):
    """Drop the single-column, non-unique indexes Django created for ``db_index``."""
    model = apps.get_model("vibes_callbacks", "CallbackEvent")
    table = model._meta.db_table
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    for name, info in constraints.items():
        if (
            info["index"]
            and not info["unique"]
            and not info["primary_key"]
            and len(info["columns"]) == 1
            and info["columns"][0] in TABLE_COLUMNS
            and not name.startswith("vibes_cb_")
        ):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_column_indexes(apps, schema_editor):
    """Going back: the indexes ``db_index=True`` gives these fields (historical state)."""
    model = apps.get_model("vibes_callbacks", "CallbackEvent")
    for field_name in FIELDS:
        for sql in schema_editor._field_indexes_sql(model, model._meta.get_field(field_name)):
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("vibes_callbacks", "0002_requested_test_event"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="callbackevent", name="vibes_cb_person_key"),
        migrations.RemoveIndex(model_name="callbackevent", name="vibes_cb_external_id"),
        migrations.RemoveIndex(model_name="callbackevent", name="vibes_cb_mdn"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="callbackevent",
                    name="status",
                    field=models.CharField(
                        choices=[
                            ("received", "Received, not processed yet"),
                            ("processed", "Applied"),
                            ("stale", "Older than what is applied; changed nothing"),
                            ("ignored", "Nothing to apply"),
                            ("invalid", "Not a body we understand"),
                            ("failed", "Failed; will be retried"),
                            ("resolved", "Resolved by staff"),
                        ],
                        default="received",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                migrations.AlterField(
                    model_name="callbackevent",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="crm.person",
                        verbose_name="person",
                    ),
                ),
                migrations.AlterField(
                    model_name="callbackevent",
                    name="subscription_list",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="crm.subscriptionlist",
                        verbose_name="subscription list",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_column_indexes, create_column_indexes),
            ],
        ),
        migrations.AddIndex(
            model_name="callbackevent",
            index=models.Index(
                condition=~models.Q(person_key=""),
                fields=["person_key"],
                name="vibes_cb_person_key_set",
            ),
        ),
        migrations.AddIndex(
            model_name="callbackevent",
            index=models.Index(
                condition=~models.Q(external_person_id=""),
                fields=["external_person_id"],
                name="vibes_cb_external_id_set",
            ),
        ),
        migrations.AddIndex(
            model_name="callbackevent",
            index=models.Index(
                condition=~models.Q(mdn=""), fields=["mdn"], name="vibes_cb_mdn_set"
            ),
        ),
        migrations.AddIndex(
            model_name="callbackevent",
            index=models.Index(
                condition=models.Q(person__isnull=False),
                fields=["person"],
                name="vibes_cb_person_set",
            ),
        ),
        migrations.AddIndex(
            model_name="callbackevent",
            index=models.Index(
                condition=models.Q(subscription_list__isnull=False),
                fields=["subscription_list"],
                name="vibes_cb_list_set",
            ),
        ),
    ]
