"""``contacts.room.everyone_full`` past the first slice: the lock statement's few rows, then
statements of a slice each, in id order, stopping at the first agent with room."""

import pytest
from django.utils import timezone

from agents.availability.capacity import load_admit
from agents.availability.rules import capacity_of
from contacts import room
from tests.factories import AgentFactory, CompanyFactory, online


def _full(company, agent, n):
    for _ in range(n):
        assert load_admit(
            company_id=company.pk,
            agent_id=agent.pk,
            kind="text",
            capacity=capacity_of(company, agent),
        )


def _first_slice(company, channel="text"):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            room.present_sql(channel),
            room.present_params(company_id=company.pk, at=timezone.now(), limit=room.FIRST_SLICE),
        )
        return cursor.fetchall()


@pytest.mark.django_db
@pytest.mark.parametrize("with_first_slice", [False, True])
@pytest.mark.parametrize("where", ["nobody", "first", "past the first slice", "in a later slice"])
def test_everyone_full_reads_on_until_someone_has_room(monkeypatch, with_first_slice, where):
    # given a small slice, a company with a default capacity of 1 and agents at work, all
    # full but the one at ``room_at`` (None: nobody has room)
    monkeypatch.setattr(room, "SLICE", 3)
    room_at = {
        "nobody": None,
        "first": 0,
        "past the first slice": room.FIRST_SLICE,
        "in a later slice": room.FIRST_SLICE + 3 + 1,
    }[where]
    company = CompanyFactory(default_capacity=1)
    people = [AgentFactory(companies=[company]) for _ in range(room.FIRST_SLICE + 2 * 3 + 1)]
    for n, person in enumerate(people):
        online(person)
        if n != room_at:
            _full(company, person, 1)
    first = _first_slice(company) if with_first_slice else None
    # then the item waits in the queue only when nobody has room
    assert room.everyone_full(company=company, channel="text", first_slice=first) is (
        room_at is None
    )


@pytest.mark.django_db
def test_nobody_at_work_is_not_everyone_full():
    # given a company with a capacity whose only agent is away
    company = CompanyFactory(default_capacity=1)
    online(AgentFactory(companies=[company]), presence="away")
    # then the item goes to Active as without capacity (nobody is held back by being full)
    assert room.everyone_full(company=company, channel="text", first_slice=[]) is False
    assert room.everyone_full(company=company, channel="text") is False
