"""Changelists that stay fast on tables with a million rows.

Django's admin counts the whole table twice per changelist page (the page count and the
"of N" total). On PostgreSQL a ``COUNT(*)`` over a million rows reads them all, so an
unfiltered list takes its total from the planner's estimate, and a filtered or searched
list counts at most ``exact_count_limit`` rows.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property


def table_row_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of the rows in the queryset's table (kept by ANALYZE and
    autovacuum), or None where there is none (another database, a table never analyzed)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:
        return None
    return int(row[0])


class LargeTablePaginator(Paginator):
    """A paginator whose count never reads more than ``exact_count_limit`` rows."""

    exact_count_limit = 10_000

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.count_is_estimate = False
        self.count_is_capped = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        if not queryset.query.where:
            estimate = table_row_estimate(queryset)
            if estimate is not None and estimate > self.exact_count_limit:
                self.count_is_estimate = True
                return estimate
        counted = queryset.order_by()[: self.exact_count_limit + 1].count()
        if counted > self.exact_count_limit:
            self.count_is_capped = True
            return self.exact_count_limit
        return counted


class LargeTableAdmin(admin.ModelAdmin):
    """Base for the changelists of tables that grow with the number of subscribers."""

    paginator = LargeTablePaginator
    show_full_result_count = False
    # Filter counts ("Show counts") would count the whole table once per filter choice.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    ordering = ("-id",)
