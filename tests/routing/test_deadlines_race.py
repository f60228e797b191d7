"""An item handled at the last moment never also moves to Active (real PostgreSQL locks,
threads): the sweep's move and the handled mark are compare-and-sets on the same row."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.interactions import interaction_mark_handled
from contacts.models import Interaction, TimelineEntry
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing import tasks
from routing.deadlines import deadlines_sweep
from routing.models import DeadlineEmail, Decision
from tests.contacts.test_concurrency import run_together
from tests.factories import AgentFactory, online

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ITEMS = 60


@pytest.fixture
def due_items(company):
    """``ITEMS`` texts, each of its own contact, in four agents' inboxes, all just due."""
    company.text_deadline_minutes = 15
    company.save()
    agents = [online(AgentFactory(companies=[company])) for _ in range(4)]
    due = timezone.now() - timedelta(seconds=1)
    items = []
    for n in range(ITEMS):
        owner = agents[n % 4]
        contact = contact_create(company=company, actor=None, phone=f"+1202555{n + 100:04d}")
        contact_assign_primary_agent(contact=contact, agent=owner, actor=None)
        items.append(
            Interaction.objects.create(
                company=company,
                contact=contact,
                channel="text",
                routed_to=owner,
                route_reason="Sent to the primary agent.",
                response_due_at=due,
            )
        )
    return items


def test_handled_at_the_last_moment_never_also_moves(company, due_items):
    # given every item due, with two sweepers and their agents handling them at once
    def work(i: int):
        if i < 2:
            moved = 0
            while True:  # each sweeper until nothing is left for it
                done = deadlines_sweep(limit=7)
                moved += done
                if done == 0:
                    return ("swept", moved)
        outcome = []
        for item in due_items[i - 2 :: 6]:
            try:
                interaction_mark_handled(
                    company=company, interaction_id=item.pk, agent=item.routed_to
                )
                outcome.append(item.pk)
            except ValidationError:
                pass  # the sweep moved it first: not in their inbox any more
        return ("handled", outcome)

    with mock.patch.object(tasks.send_deadline_email, "delay"):
        results = run_together(8, work)

    # then nothing failed, and each item is exactly one of: handled, or moved
    assert not [r for r in results if isinstance(r, Exception)], results
    handled = {pk for kind, pks in results if kind == "handled" for pk in pks}
    moved = sum(n for kind, n in results if kind == "swept")
    assert len(handled) + moved == ITEMS
    rows = {i.pk: i for i in Interaction.objects.filter(pk__in=[i.pk for i in due_items])}
    for pk, row in rows.items():
        if pk in handled:
            assert row.status == "handled" and row.response_missed_at is None, pk
            assert row.routed_to_id is not None and row.pool == ""
        else:
            assert row.status == "open" and row.routed_to_id is None and row.pool == "active"
            assert row.response_missed_by_id is not None
    # and every move has its one timeline row, why-log entry and email; the handled none
    missed_contacts = {r.contact_id for r in rows.values() if r.response_missed_at}
    assert TimelineEntry.objects.filter(kind="response_missed").count() == moved
    assert (
        set(
            TimelineEntry.objects.filter(kind="response_missed").values_list(
                "contact_id", flat=True
            )
        )
        == missed_contacts
    )
    assert Decision.objects.filter(method="").count() == moved
    assert DeadlineEmail.objects.filter(kind="missed").count() == moved


def test_two_sweeps_at_once_move_each_item_once(company, due_items):
    with mock.patch.object(tasks.send_deadline_email, "delay"):
        results = run_together(4, lambda i: sum(iter(lambda: deadlines_sweep(limit=5), 0)))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == ITEMS
    assert TimelineEntry.objects.filter(kind="response_missed").count() == ITEMS
    assert DeadlineEmail.objects.count() == ITEMS
