"""``copy_insert``: the same rows as ``bulk_create``, through COPY on PostgreSQL."""

import pytest

from agents.bulk import COPY_FROM, copy_insert
from contacts.models import TimelineEntry
from contacts.services import contact_create


@pytest.mark.parametrize("count", [3, COPY_FROM + 5])
@pytest.mark.django_db
def test_copy_insert_stores_every_field_and_json_as_given(company, agent, count):
    # given unsaved timeline rows with JSON details (quotes and backslashes included)
    contact = contact_create(company=company, actor=None, phone="+12025550142")
    rows = [
        TimelineEntry(
            company_id=company.pk,
            contact_id=contact.pk,
            kind=TimelineEntry.Kind.PRIMARY_ASSIGNED,
            agent=agent,
            message=f'row {n}: "quoted" \\ back\tslash',
            details={"n": n, "name": 'Ann "the" Agent', "list": [1, None, "x"]},
        )
        for n in range(count)
    ]

    # when they are inserted in bulk
    copy_insert(rows)

    # then every row reads back exactly, with the model's defaults filled in
    stored = list(
        TimelineEntry.objects.filter(contact=contact, kind="primary_assigned").order_by("pk")
    )
    assert len(stored) == count
    assert stored[-1].message == f'row {count - 1}: "quoted" \\ back\tslash'
    assert stored[-1].details == {"n": count - 1, "name": 'Ann "the" Agent', "list": [1, None, "x"]}
    assert stored[-1].agent_id == agent.pk and stored[-1].created_at is not None
