"""A page's floor: the statements one render of it runs, executed bare.

``page_statements`` captures the SQL of one request (Django's ``CaptureQueriesContext``: every
statement with its parameters bound, as PostgreSQL received it); ``run_bare`` executes exactly
those statements through the connection's raw psycopg cursor — one round trip each, every row
fetched, no ORM, no model instances, no template — and returns the milliseconds they took.
Statements that only make sense inside the page's transaction (``SAVEPOINT …``) run as they
did: the whole list is executed in one transaction, rolled back, so a write the page made (a
session's save) is repeated each time without piling up."""

import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def page_statements(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in queries.captured_queries]


def run_bare(statements: list[str]) -> float:
    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection itself, under Django's wrapper
    start = time.perf_counter()
    with raw.transaction(force_rollback=True), raw.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql.encode(), prepare=False)
            if cursor.description is not None:
                cursor.fetchall()
    return (time.perf_counter() - start) * 1000
