"""Deadlines are rows in the database, swept by Celery beat: a worker killed outright
(SIGKILL) loses nothing — a fresh worker's sweep moves the item within the deadline + 15 s.
Real PostgreSQL, Redis, worker and beat (skipped without them, failing under CI=true)."""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Interaction, TimelineEntry
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.models import DeadlineEmail
from tests.factories import AgentFactory, online

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

# The sweep runs every 5 s: a move may wait that long, plus a worker's start.
ALLOWED_LATE = timedelta(seconds=15)


def test_a_killed_worker_loses_no_deadline(company, start_worker, tmp_path):
    # given a worker with beat running, and Jane's text in Ava's inbox due in 12 s
    company.text_deadline_minutes = 1
    company.save()
    ava = online(AgentFactory(companies=[company], full_name="Ava Patel"))
    contact = contact_create(company=company, actor=None, name="Jane Doe", phone="+12025550142")
    contact_assign_primary_agent(contact=contact, agent=ava, actor=None)
    first = start_worker(beat=True)
    due = timezone.now() + timedelta(seconds=12)
    item = Interaction.objects.create(
        company=company,
        contact=contact,
        channel="text",
        routed_to=ava,
        route_reason="Sent to the primary agent.",
        response_due_at=due,
    )
    # (the worker is up: start_worker logs it to tmp_path/worker0.log)
    log = tmp_path / "worker0.log"
    limit = time.monotonic() + 10
    while not (log.exists() and " ready." in log.read_text()):
        if time.monotonic() > limit:
            pytest.fail("The first worker did not start within 10 s")
        time.sleep(0.1)
    # when that worker is killed outright before the deadline (its beat with it: the
    # machine is gone), and a new one started
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert Interaction.objects.get(pk=item.pk).routed_to == ava  # not yet due: still hers
    start_worker(beat=True)
    # then the item moves to Active no later than 15 s after its deadline
    limit = time.monotonic() + (due - timezone.now()).total_seconds() + 15
    while time.monotonic() < limit:
        item.refresh_from_db()
        if item.response_missed_at is not None:
            break
        time.sleep(0.5)
    else:
        pytest.fail("The item did not move to Active within its deadline + 15 s")
    assert item.response_missed_at - due <= ALLOWED_LATE
    assert item.routed_to is None and item.pool == "active"
    assert item.response_missed_by == ava
    # once: one timeline row, and the worker sends Ava her one email
    assert TimelineEntry.objects.filter(contact=contact, kind="response_missed").count() == 1
    limit = time.monotonic() + 30
    while time.monotonic() < limit:
        if DeadlineEmail.objects.filter(interaction=item, status="sent").exists():
            break
        time.sleep(0.5)
    else:
        pytest.fail("The worker did not send the missed-deadline email within 30 s")
    assert DeadlineEmail.objects.filter(interaction=item).count() == 1
