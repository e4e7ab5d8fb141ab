"""Trigram indexes for finding persons by any part of a name or email, or by the last
digits of their number (the admin's person search, ``crm.selectors.person_search``).

Django writes those lookups as ``UPPER(col::text) LIKE UPPER('%part%')`` and
``mdn::text LIKE '%0123'`` on PostgreSQL. A B-tree index cannot answer a pattern that starts
with a wildcard; a GIN index of the same expression with pg_trgm's operator class can, for
patterns of three or more characters. SQLite has no such index: there these searches read
the table (docs/crm.md), and this migration changes nothing.
"""

from django.db import migrations

# (index name, indexed expression): each expression is exactly what Django's lookup
# writes, or PostgreSQL would not use the index.
TRIGRAM_INDEXES = (
    ("crm_person_first_name_trgm", "UPPER(first_name::text)"),
    ("crm_person_last_name_trgm", "UPPER(last_name::text)"),
    ("crm_person_email_trgm", "UPPER(email::text)"),
    ("crm_person_mdn_trgm", "(mdn::text)"),
)


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13 and later): the database's owner may
    # create it. Django's TrigramExtension operation is not used because, run backwards,
    # it queries PostgreSQL's catalogue on every database.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX {name} ON crm_person USING gin ({expression} gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    """Drops the indexes and leaves pg_trgm, which other applications may use."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _expression in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0005_person_vibes_identity"),
    ]

    operations = [
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
