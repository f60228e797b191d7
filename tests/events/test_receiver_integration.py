"""THE integration test of the outbound webhooks (PostgreSQL): a real HTTP receiver on
127.0.0.1 verifies every request's signature with the ``standardwebhooks`` package and fails
30% of them (500), while a handover of 10,000 contacts (and then of one receiver's new book)
is delivered. Everything arrives, once each by event id, in version order per contact.

The sender runs in this process (the tasks' bodies, eagerly, then the sweep in a loop), so
the test is deterministic in what it checks and bounded in time."""

import time
from collections import defaultdict

import pytest
from django.db import connection, transaction

from contacts.ownership import contacts_recount_primary_load
from events.delivery import sweep
from events.models import Delivery, Event, EventType
from events.services import endpoint_create
from routing.handover import agent_book_handover
from tests.events.conftest import no_wait
from tests.factories import AgentFactory, online
from tests.routing.helpers import group_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BOOK = 10_000


def _book(company, owner, n: int) -> None:
    """``n`` contacts owned by ``owner``, in one INSERT (as the benchmarks build books)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contacts_contact (company_id, name, phone, email, source, tags,
                primary_agent_id, ownership_version, created_at, updated_at)
            SELECT %s, 'Client ' || g, '+1212' || (2000000 + g)::text, '', 'test', '',
                   %s, 1, now(), now()
            FROM generate_series(1, %s) AS g
            """,
            [company.pk, owner.pk, n],
        )
    contacts_recount_primary_load(company=company)


def test_a_handover_of_10000_contacts_arrives_complete_once_each_in_version_order(
    company, receiver, settings
):
    # given a receiver failing 30% of requests, the company's endpoint on it, and a leaver
    # whose 10,000 contacts go to a round-robin group of three
    no_wait(settings)
    got = receiver(fail_rate=0.3, seed=2211)
    endpoint, got.secret = endpoint_create(
        company=company, url=got.url, event_types=[EventType.CONTACT_OWNER_CHANGED]
    )
    company.refresh_from_db()
    leaver = AgentFactory(companies=[company], full_name="Leo Leaver")
    team = [AgentFactory(companies=[company]) for _ in range(3)]
    later = AgentFactory(companies=[company], full_name="Lia Later")
    online(*team, later)
    _book(company, leaver, BOOK)
    group = group_of(company, team, "round_robin")
    second = group_of(company, [later], "least_loaded")

    # when the book is handed over, then the first receiver's new book again
    started = time.monotonic()
    moved = agent_book_handover(company=company, agent=leaver, group=group, actor=None)
    again = agent_book_handover(company=company, agent=team[0], group=second, actor=None)
    sweeps = 0
    while (
        Delivery.objects.filter(status=Delivery.Status.PENDING).exists()
        or Event.objects.filter(dispatched=False).exists()
    ):
        assert time.monotonic() - started < 60, "not delivered within 60 s"
        sweep()
        sweeps += 1

    # then every event arrived, once each by id, signed, in batches of at most 100
    assert moved == BOOK and 3000 < again < 4000
    events = Event.objects.filter(company=company, type=EventType.CONTACT_OWNER_CHANGED)
    expected = {
        str(uid): (cid, v) for uid, cid, v in events.values_list("uid", "contact_id", "version")
    }
    assert len(expected) == BOOK + again
    assert got.bad_signatures == 0
    accepted = [e for r in got.accepted for e in r.body["data"]["events"]]
    assert [e["id"] for e in accepted if e["id"] in expected] == [e["id"] for e in accepted]
    assert len(accepted) == len({e["id"] for e in accepted}) == len(expected)
    assert all(r.body["data"]["mass_change"] == "handover" for r in got.accepted)
    assert max(r.body["data"]["count"] for r in got.accepted) == 100
    # the receiver did fail about 30% of the time, and those were sent again
    failed = [r for r in got.received if r.status == 500]
    assert 0.2 < len(failed) / len(got.received) < 0.4
    assert {r.headers["webhook-id"] for r in failed} <= {
        r.headers["webhook-id"] for r in got.accepted
    }
    # and each contact's events arrived in the order of its ownership versions
    versions = defaultdict(list)
    for e in accepted:
        versions[e["data"]["contact"]["id"]].append(e["data"]["version"])
    assert len(versions) == BOOK
    assert all(v == sorted(v) and len(set(v)) == len(v) for v in versions.values())
    assert sum(len(v) == 2 for v in versions.values()) == again
    assert not Delivery.objects.exclude(status=Delivery.Status.DELIVERED).exists()
    assert sweeps > 0
