"""A delivery's identity is (``callback_type``, ``event_id``); callback registration jobs.

``RegistrationJob`` is a new, empty table (the durable record of a list or campaign whose
callbacks must be registered with Vibes, ``callbacks.registration_jobs``). The rest of
this migration changes the callback log's identity:

Vibes does not show event ids to be unique across callback types (its own
``subscription_added`` and ``subscription_removed`` examples share one), so the unique
constraint on ``event_id`` made the second of two such events a "duplicate" that was
never applied. The new unique constraint ``vibes_cb_event_identity`` is on
``(event_id, callback_type)``; its index also serves lookups by event id alone, so the
table keeps the same number of indexes and a new event the same work.

Stored events need no change going forward: rows unique by ``event_id`` are unique by
the pair. What each database does (the cost on a large table is in docs/callbacks.md):

- PostgreSQL: the pair's constraint is added (one read of the table to build its index)
  and the old constraint dropped (instant). No table copy.
- SQLite: a column's ``UNIQUE`` is part of the table's definition and cannot be dropped,
  so the table is copied once without it (Django's own ``AlterField`` would copy it twice,
  once more for the new constraint), and the pair gets a unique index.

Going back, events that share an event id with an earlier event of another type could
not all keep it: every one but the first gets ``~<row id>`` appended to its event id
(kept, not deleted: the log is evidence), and the old constraint is restored.
"""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import Count, Min

NEW_CONSTRAINT = "vibes_cb_event_identity"


def _constraints(schema_editor, table: str) -> dict:
    with schema_editor.connection.cursor() as cursor:
        return schema_editor.connection.introspection.get_constraints(cursor, table)


def _field_without_unique(model) -> models.CharField:
    old_field = model._meta.get_field("event_id")
    _, _, args, kwargs = old_field.deconstruct()
    kwargs["unique"] = False
    new_field = models.CharField(*args, **kwargs)
    new_field.set_attributes_from_name("event_id")
    new_field.model = model
    return new_field


def identity_by_type_and_id(apps, schema_editor):
    """Forwards. ``apps`` is the state before: ``event_id`` unique on its own."""
    model = apps.get_model("vibes_callbacks", "CallbackEvent")
    table = model._meta.db_table
    quote = schema_editor.quote_name
    pair = f"({quote('event_id')}, {quote('callback_type')})"
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(NEW_CONSTRAINT)} UNIQUE {pair}"
        )
        for name, info in _constraints(schema_editor, table).items():
            if info["columns"] == ["event_id"] and (info["unique"] or name.endswith("_like")):
                if info["unique"]:
                    schema_editor.execute(
                        f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(name)}"
                    )
                else:
                    schema_editor.execute(f"DROP INDEX IF EXISTS {quote(name)}")
        return
    if schema_editor.connection.vendor == "sqlite":
        old_field = model._meta.get_field("event_id")
        schema_editor._remake_table(model, alter_fields=[(old_field, _field_without_unique(model))])
        schema_editor.execute(
            f"CREATE UNIQUE INDEX {quote(NEW_CONSTRAINT)} ON {quote(table)} {pair}"
        )
        return
    schema_editor.alter_field(
        model, model._meta.get_field("event_id"), _field_without_unique(model)
    )
    schema_editor.add_constraint(
        model, models.UniqueConstraint(fields=["event_id", "callback_type"], name=NEW_CONSTRAINT)
    )


def identity_by_id_alone(apps, schema_editor):
    """Backwards. ``apps`` is again the state before this migration."""
    model = apps.get_model("vibes_callbacks", "CallbackEvent")
    table = model._meta.db_table
    quote = schema_editor.quote_name
    shared = (
        model.objects.values("event_id")
        .annotate(rows=Count("id"), first=Min("id"))
        .filter(rows__gt=1)
        .values_list("event_id", "first")
    )
    for event_id, first in list(shared):
        for pk in (
            model.objects.filter(event_id=event_id).exclude(pk=first).values_list("pk", flat=True)
        ):
            suffix = f"~{pk}"
            model.objects.filter(pk=pk).update(event_id=event_id[: 200 - len(suffix)] + suffix)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(table + '_event_id_key')} "
            f"UNIQUE ({quote('event_id')})"
        )
        schema_editor.execute(
            f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(NEW_CONSTRAINT)}"
        )
        return
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP INDEX IF EXISTS {quote(NEW_CONSTRAINT)}")
        old_field = model._meta.get_field("event_id")
        schema_editor._remake_table(model, alter_fields=[(_field_without_unique(model), old_field)])
        return
    schema_editor.remove_constraint(
        model, models.UniqueConstraint(fields=["event_id", "callback_type"], name=NEW_CONSTRAINT)
    )
    schema_editor.alter_field(
        model, _field_without_unique(model), model._meta.get_field("event_id")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("vibes_callbacks", "0007_resolve_permission"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(identity_by_type_and_id, identity_by_id_alone, elidable=False),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="callbackevent",
                    name="event_id",
                    field=models.CharField(
                        help_text=(
                            "Vibes' event_id, or sha256:<hash of the body> when the body has "
                            "none. A second delivery of the same type with the same id is "
                            "accepted and not applied again."
                        ),
                        max_length=200,
                        verbose_name="event id",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="callbackevent",
                    constraint=models.UniqueConstraint(
                        fields=("event_id", "callback_type"), name="vibes_cb_event_identity"
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="RegistrationJob",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "target",
                    models.CharField(
                        choices=[("list", "Subscription list"), ("campaign", "Acquisition campaign")],
                        max_length=16,
                        verbose_name="target",
                    ),
                ),
                ("target_id", models.CharField(max_length=64, verbose_name="Vibes id")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("running", "Being sent"),
                            ("done", "Done"),
                            ("skipped", "Nothing to do"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=16,
                        verbose_name="status",
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0, verbose_name="attempts")),
                (
                    "next_attempt_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="next attempt"
                    ),
                ),
                (
                    "lease_expires_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="claimed until"),
                ),
                (
                    "result",
                    models.TextField(
                        blank=True,
                        help_text="What Vibes answered, one line per registration.",
                        verbose_name="result",
                    ),
                ),
                ("error", models.TextField(blank=True, verbose_name="error")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="created"),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished")),
            ],
            options={
                "verbose_name": "callback registration job",
                "verbose_name_plural": "callback registration jobs",
                "ordering": ["-id"],
                "indexes": [
                    models.Index(fields=["status", "next_attempt_at"], name="vibes_cb_regjob_due")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "pending")),
                        fields=("target", "target_id"),
                        name="vibes_cb_one_pending_regjob",
                    )
                ],
            },
        ),
    ]
