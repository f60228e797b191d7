"""/api/ answers 503 only when the database cannot be reached; a query the database refused
(a deadlock, a timeout, SQLite's "database is locked") is Django's usual 500, with its
traceback in the log. The real outage is in tests/test_faults.py (PostgreSQL)."""

import json
import logging
import sqlite3
from unittest import mock

import psycopg
import pytest
from django.core.signals import got_request_exception
from django.db import OperationalError
from django.test import Client

from agents.services import company_set_webhook_token

pytestmark = pytest.mark.django_db
TOKEN = "sbw_test_token_database_errors"


@pytest.fixture
def server_errors():
    """The 500s these tests mean to cause, taken from the suite's no-500 guard."""
    got_request_exception.disconnect(dispatch_uid="tests.no_server_errors")
    seen = []

    def record(sender, request=None, **kwargs):
        seen.append(request.path)

    got_request_exception.connect(record, weak=False, dispatch_uid="tests.expected_500")
    yield seen
    got_request_exception.disconnect(dispatch_uid="tests.expected_500")


def _django_error(cause: Exception) -> OperationalError:
    # As Django's DatabaseErrorWrapper raises it: the driver's error as the cause.
    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as error:
        return error


def _post_text(company, error):
    company_set_webhook_token(company=company, token=TOKEN)
    with mock.patch("routing.webhook.inbound_receive", side_effect=error):
        return Client(raise_request_exception=False).post(
            "/api/inbound/",
            data=json.dumps({"channel": "text", "phone": "+12025550199", "body": "Hi"}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("no such table: contacts_contact"),
    ],
    ids=["deadlock", "serialization", "statement-timeout", "sqlite-locked", "sqlite-no-table"],
)
def test_a_query_the_database_refused_is_a_500_not_a_503(company, cause, caplog, server_errors):
    # when the webhook's work fails with an error from a database that did answer
    with caplog.at_level(logging.ERROR):
        response = _post_text(company, _django_error(cause))
    # then it is Django's 500, logged with its traceback, never the "unreachable" 503
    assert response.status_code == 500
    assert server_errors == ["/api/inbound/"]
    assert "The database is unreachable" not in caplog.text
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.ConnectionFailure("connection failure"),
    ],
    ids=["admin-shutdown", "connection-failure"],
)
def test_a_lost_connection_is_a_503_logged_with_its_traceback(company, cause, caplog):
    with caplog.at_level(logging.ERROR, logger="agents.middleware"):
        response = _post_text(company, _django_error(cause))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    (record,) = [r for r in caplog.records if r.name == "agents.middleware"]
    assert record.getMessage() == "The database is unreachable; answered 503."
    assert record.exc_info is not None
