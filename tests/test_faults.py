"""What a person sees while Redis or the database is down (docs/operations.md, "When things
fail"): a committed change answers its success, quickly; an API request the database could
not store answers 503 JSON."""

import json
import time
from unittest import mock

import pytest
from django.db import connection

from agents.services import company_set_webhook_token
from contacts.models import Contact, Interaction, TimelineEntry
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.models import GroupMember, ReassignmentGroup, Round
from tests.conftest import free_port
from tests.factories import AgentFactory, online

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

TOKEN = "sbw_test_token_faults"
# Well under the 19 s a request took before the broker's timeouts were bounded.
QUICKLY = 3.0


@pytest.fixture
def redis_down(point_celery_at):
    """Tasks are sent (not run eagerly) to a Redis that is not there: a closed port."""
    point_celery_at(f"redis://127.0.0.1:{free_port()}/0")


@pytest.fixture
def olivia(company, agent):
    contact = contact_create(company=company, actor=None, name="Olivia", phone="+12025550142")
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    return contact


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_reassignment_committed_while_redis_is_down_answers_success_quickly(
    company, agent, olivia, login, redis_down
):
    # given a first-to-claim group (opening it sends a countdown and offer emails)
    group = ReassignmentGroup.objects.create(
        company=company, name="Closers", method="first_to_claim", claim_window_minutes=10
    )
    for name in ("Ben Okafor", "Chloe Martin"):
        member = online(AgentFactory(companies=[company], full_name=name))
        GroupMember.objects.create(group=group, agent=member)
    client = login(agent)
    # when the agent confirms the reassignment while Redis is down
    response, took = _timed(
        lambda: client.post(
            f"/lead-center/contacts/{olivia.pk}/reassign/", {"group": group.pk, "confirm": "yes"}
        )
    )
    # then the page answers as usual, quickly, and the change is stored
    assert response.status_code == 302, response.content[:500]
    assert took < QUICKLY, f"took {took:.1f} s"
    assert Round.objects.filter(contact=olivia, status="open").exists()
    assert TimelineEntry.objects.filter(contact=olivia, kind="reassign_started").exists()


def test_a_webhook_text_stored_while_redis_is_down_answers_201_quickly(client, company, redis_down):
    # given the company's webhook, and an unknown number (a new contact, assigned and emailed)
    company_set_webhook_token(company=company, token=TOKEN)
    online(AgentFactory(companies=[company]))
    # when a text arrives while Redis is down
    response, took = _timed(
        lambda: client.post(
            "/api/inbound/",
            data=json.dumps({"channel": "text", "phone": "+12025550199", "body": "Hi"}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    )
    # then it answers 201 with the stored interaction, quickly
    assert response.status_code == 201, response.content[:500]
    assert took < QUICKLY, f"took {took:.1f} s"
    interaction = Interaction.objects.get()
    assert response.json()["interaction"] == interaction.pk
    assert Contact.objects.filter(company=company, phone="+12025550199").exists()


def test_the_webhook_answers_503_json_while_the_database_is_unreachable(client, company):
    # given the company's webhook
    company_set_webhook_token(company=company, token=TOKEN)
    # when a text arrives while PostgreSQL refuses connections
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    try:
        response = client.post(
            "/api/inbound/",
            data=json.dumps({"channel": "text", "phone": "+12025550199", "body": "Hi"}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    finally:
        connection.close()
        connection.settings_dict.update(saved)
    # then the sender gets a 503 in the webhook's error shape, and is told when to retry
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "Try again" in response.json()["error"]
    assert response["Retry-After"] == "5"
    # and nothing was stored
    assert not Interaction.objects.exists()


def test_a_statement_timeout_is_a_500_not_the_unreachable_503(client, company, caplog):
    # given the webhook, whose work hits PostgreSQL's statement timeout (the database answers)
    from django.core.signals import got_request_exception
    from django.db import transaction

    company_set_webhook_token(company=company, token=TOKEN)

    def slow_query(**kwargs):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 1")
            cursor.execute("SELECT pg_sleep(1)")

    # this 500 is the point of the test, not a bug for the suite's no-500 guard to report
    got_request_exception.disconnect(dispatch_uid="tests.no_server_errors")
    client.raise_request_exception = False
    with mock.patch("routing.webhook.inbound_receive", side_effect=slow_query):
        response = client.post(
            "/api/inbound/",
            data=json.dumps({"channel": "text", "phone": "+12025550199", "body": "Hi"}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    # then it is Django's 500 with the traceback logged, not "the database is unreachable"
    assert response.status_code == 500
    assert "The database is unreachable" not in caplog.text
    assert "canceling statement due to statement timeout" in caplog.text


@pytest.fixture
def silent_redis_cache(settings):
    """The cache as configured, at a Redis that accepts connections and never answers (a
    host dropping packets looks the same to the client)."""
    import socket

    from django.core.cache.backends.redis import RedisCache

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    host, port = listener.getsockname()
    params = dict(settings.CACHES["default"])
    yield RedisCache(f"redis://{host}:{port}/0", params)
    listener.close()


def test_a_wrong_token_answers_401_quickly_while_redis_does_not_answer(
    client, company, silent_redis_cache
):
    # given the webhook, and a cache whose Redis takes connections but never replies
    company_set_webhook_token(company=company, token=TOKEN)
    with mock.patch("routing.webhook.cache", silent_redis_cache):
        # when a sender with a wrong token calls
        response, took = _timed(
            lambda: client.post(
                "/api/inbound/",
                data=json.dumps({"channel": "text", "phone": "+12025550199", "body": "Hi"}),
                content_type="application/json",
                headers={"Authorization": "Bearer sbw_wrong"},
            )
        )
    # then it gets its plain 401, within the cache's socket timeout, not a hung request
    assert response.status_code == 401
    assert took < QUICKLY, f"took {took:.1f} s"
