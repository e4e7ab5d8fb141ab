"""The callback log's indexes: what a stored event costs, and migrations 0003-0005 both ways.

A stored event should add entries only to the indexes every row needs (event id, type,
and the waiting events' index); the columns processing fills in later are
indexed only where they hold something (partial indexes), so a new row adds nothing to
them. The migration drops Django's own column indexes by name, so it is run back and
forth here on the real database.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.fixtures.callbacks import callback_body, post_callback
from tests.fixtures.migrations import migrate_everything_to_latest
from vibes_integration.callbacks.models import CallbackEvent

pytestmark = [pytest.mark.usefixtures("open_callbacks")]

TABLE = CallbackEvent._meta.db_table
LATER_COLUMNS = {"person_key", "external_person_id", "mdn", "person_id", "subscription_list_id"}
PARTIAL = {
    "vibes_cb_person_key_set",
    "vibes_cb_external_id_set",
    "vibes_cb_mdn_set",
    "vibes_cb_person_set",
    "vibes_cb_list_set",
}


def _indexes() -> dict[str, tuple[str, ...]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    return {
        name: tuple(info["columns"])
        for name, info in constraints.items()
        if info["index"] and not info["primary_key"]
    }


def _index_sql(name: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name]
            )
        return cursor.fetchone()[0]


def _migrate(target: str | None = None) -> None:
    """To ``target``, or to the app's latest migration."""
    if target is None:
        migrate_everything_to_latest()
        return
    executor = MigrationExecutor(connection)
    executor.migrate([("vibes_callbacks", target)])


def _plain_indexes_on(columns: set[str]) -> set[str]:
    """Whole-table single-column indexes on these columns."""
    return {
        name
        for name, cols in _indexes().items()
        if len(cols) == 1 and cols[0] in columns and " WHERE " not in _index_sql(name).upper()
    }


@pytest.mark.django_db
def test_columns_processing_fills_are_indexed_only_where_set(client):
    assert (
        post_callback(client, callback_body("subscription_added", event_id="new")).status_code
        == 200
    )

    assert _plain_indexes_on(LATER_COLUMNS | {"status"}) == set()
    for name in PARTIAL:
        assert " WHERE " in _index_sql(name).upper(), name
    assert _indexes()["vibes_cb_waiting"] == ("id",)
    assert _indexes()["vibes_cb_settled_status"] == ("status", "id")
    assert _plain_indexes_on({"received_at"}) == set()
    assert CallbackEvent.objects.get().status == "received"


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        prefix = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
        cursor.execute(f"{prefix} {sql}", params)
        return "\n".join(str(row) for row in cursor.fetchall())


def _log(processed: int, waiting: int, failed: int = 0) -> None:
    """A log that looks like production's: nearly all processed, a few waiting; analyzed,
    so that the planner chooses by the real proportions."""
    statuses = ["processed"] * processed + ["received"] * waiting + ["failed"] * failed
    CallbackEvent.objects.bulk_create(
        CallbackEvent(event_id=f"evt-{n}", callback_type="subscription_added", status=status)
        for n, status in enumerate(statuses)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(TABLE)}")


@pytest.mark.django_db
def test_processing_claims_waiting_events_through_their_own_index():
    """The claim's filter and order are the waiting index's: no sort, whatever the backlog."""
    _log(processed=3000, waiting=30)
    claim = CallbackEvent.objects.filter(status="received", pk__gt=0).order_by("pk")[:100]
    plan = _plan(claim)
    assert "vibes_cb_waiting" in plan
    assert "SORT" not in plan.upper()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite uses a partial index only for its own WHERE"
)
@pytest.mark.django_db
def test_the_admin_finds_events_that_need_a_look_by_status_through_an_index():
    _log(processed=3000, waiting=30, failed=5)
    failed = CallbackEvent.objects.filter(status="failed").order_by("-id")[:100]
    assert "vibes_cb_settled_status" in _plan(failed)


@pytest.mark.django_db(transaction=True)
def test_migration_0003_goes_back_to_the_column_indexes_and_forward_again():
    try:
        _migrate("0002_requested_test_event")
        back = {_indexes()[name][0] for name in _plain_indexes_on(LATER_COLUMNS | {"status"})}
        assert back == LATER_COLUMNS | {"status"}
        assert not PARTIAL & set(_indexes())
    finally:
        _migrate()

    assert _plain_indexes_on(LATER_COLUMNS | {"status"}) == set()
    assert set(_indexes()) >= PARTIAL


def _pattern_indexes() -> set[str]:
    return {
        name
        for name, cols in _indexes().items()
        if name.endswith("_like") and cols[0] in ("event_id", "callback_type")
    }


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="only PostgreSQL makes pattern-ops twins"
)
@pytest.mark.django_db(transaction=True)
def test_migration_0004_drops_the_pattern_index_twins_and_back():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    assert any(  # the unique index that serves exact lookups stays
        info["unique"] and info["columns"][0] == "event_id" for info in constraints.values()
    )
    assert any(
        cols == ("callback_type",) and not name.endswith("_like")
        for name, cols in _indexes().items()
    )
    assert _pattern_indexes() == set()
    try:
        _migrate("0003_fewer_indexes_for_new_events")
        assert {_indexes()[name][0] for name in _pattern_indexes()} == {
            "event_id",
            "callback_type",
        }
    finally:
        _migrate()
    assert _pattern_indexes() == set()


@pytest.mark.django_db(transaction=True)
def test_migration_0005_goes_back_to_the_time_indexes_and_forward_again():
    try:
        _migrate("0004_drop_pattern_indexes")
        assert _plain_indexes_on({"received_at"})
        assert _indexes()["vibes_cb_status_received"] == ("status", "received_at")
        assert not {"vibes_cb_waiting", "vibes_cb_settled_status"} & set(_indexes())
    finally:
        _migrate()
    assert _plain_indexes_on({"received_at"}) == set()
    assert "vibes_cb_status_received" not in _indexes()
    assert " WHERE " in _index_sql("vibes_cb_waiting").upper()
