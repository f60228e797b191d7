import json

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property


class EstimatedCountPaginator(Paginator):
    """A paginator that, on PostgreSQL, trusts the planner's row estimate for big lists.

    Counting a million rows exactly on every page view costs more than the page itself;
    above ``exact_below`` rows the list says "about N" instead (``estimated`` is set).
    """

    exact_below = 10_000
    estimated = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        connection = connections[getattr(queryset, "db", "default")]
        if connection.vendor == "postgresql" and hasattr(queryset, "query"):
            try:
                sql, params = queryset.order_by().query.sql_with_params()
            except EmptyResultSet:
                # A filter no row can match (.none(), an id beyond any integer column).
                return 0
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            estimate = int(plan[0]["Plan"]["Plan Rows"])
            if estimate >= self.exact_below:
                self.estimated = True
                return estimate
        return super().count
