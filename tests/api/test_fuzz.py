"""A schema-based fuzz of the whole API: Schemathesis generates requests from the committed
schema (docs/openapi.yaml) for every operation and sends them in-process to the WSGI app,
with a real key of every scope on a company with a full set of objects (the IDOR test's).

Checks: no 5xx; every status code is one the schema documents for the operation; the
content type and the body are the documented ones. A bounded number of examples per
operation (``API_FUZZ_EXAMPLES``, default 25): the whole run stays under about two minutes.

``API_FUZZ_MODE`` (``positive`` / ``negative``) narrows the requests to one kind.
``API_FUZZ_SCHEMA`` points it at another file (e.g. a schema just generated into /tmp with
``manage.py spectacular --file``) to fuzz the code before the committed schema is renewed.
"""

import os
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.api.conftest import client_for
from tests.api.test_idor import build_world

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = Path(os.environ.get("API_FUZZ_SCHEMA") or ROOT / "docs" / "openapi.yaml")
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
# "all": valid requests and invalid ones (which must be refused as documented); "positive"
# or "negative" to look at one kind at a time.
MODE = os.environ.get("API_FUZZ_MODE", "all")

config = schemathesis.Config.from_dict(
    {
        # Examples and fuzzing; the coverage phase's many boundary cases per operation and
        # the stateful phase's request chains would not fit the time bound.
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "generation": {"mode": MODE, "max-examples": EXAMPLES, "deterministic": True},
    }
)
schema = schemathesis.openapi.from_path(SCHEMA_FILE, config=config)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def key(db):
    """A key of every scope of a company with every kind of object (ids 1, 2, 3…, which the
    generated ids often are), and the other company of the IDOR test beside it."""
    build_world("Alpha", 41)
    world = build_world("Beta", 42)
    # The app is called as a server would call it, inside this test's transaction: Django's
    # end-of-request connection cleanup (which the test client switches off too) would close
    # the connection under the transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield client_for(world.company).raw_key
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(case, key):
    # given a generated request, sent with a key of every scope
    # when the app answers
    # then it is no 5xx and it is what the schema documents (status, type, body)
    case.call_and_validate(
        app=application, headers={"Authorization": f"Bearer {key}"}, checks=CHECKS
    )
