"""``copy_insert``, ``copy_values`` and ``insert_values``: the same rows as ``bulk_create``,
through COPY on PostgreSQL; ``rows_source``: one statement for a batch of rows on either
database."""

import pytest
from django.db import connection

from agents.bulk import COPY_FROM, copy_insert, copy_values, insert_values, rows_source
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


@pytest.mark.parametrize("count", [3, COPY_FROM + 5])
@pytest.mark.django_db
def test_copy_values_stores_the_values_and_fills_the_defaults(company, agent, count):
    # given rows as field values (attnames), without created_at
    contact = contact_create(company=company, actor=None, phone="+12025550143")
    rows = [
        {
            "company_id": company.pk,
            "contact_id": contact.pk,
            "kind": TimelineEntry.Kind.RESPONSE_MISSED,
            "agent_id": agent.pk,
            "message": f'row {n}: "quoted" \\ back\tslash',
            "details": {"n": n, "list": [1, None, "x"]},
        }
        for n in range(count)
    ]

    # when they are inserted in bulk
    copy_values(TimelineEntry, rows)

    # then each reads back as given, with its default creation time
    stored = list(
        TimelineEntry.objects.filter(contact=contact, kind="response_missed").order_by("pk")
    )
    assert len(stored) == count
    assert stored[-1].message == f'row {count - 1}: "quoted" \\ back\tslash'
    assert stored[-1].details == {"n": count - 1, "list": [1, None, "x"]}
    assert stored[-1].agent_id == agent.pk and stored[-1].created_at is not None
    assert stored[-1].actor_id is None


@pytest.mark.parametrize("count", [2, COPY_FROM + 5])
@pytest.mark.django_db
def test_copy_values_keeps_a_given_creation_time_and_json_of_why_log_rows(company, agent, count):
    from datetime import UTC, datetime

    from routing.models import Decision
    from routing.why import decisions_write_values, why_no_distribution_values

    contact = contact_create(company=company, actor=None, phone="+12025550144")
    at = datetime(2026, 12, 3, 14, 10, 1, tzinfo=UTC)
    decisions_write_values(
        [
            why_no_distribution_values(
                company_id=company.pk,
                contact_id=contact.pk,
                reason=f'Text {n} not answered by "Ann"',
                passed_over={agent.pk: "did not answer by 09:10"},
                at=at,
            )
            for n in range(count)
        ]
    )
    rows = list(Decision.objects.filter(contact=contact).order_by("pk"))
    assert len(rows) == count
    assert {row.created_at for row in rows} == {at}
    assert rows[-1].reason == f'Text {count - 1} not answered by "Ann"'
    assert rows[-1].excluded == {
        "passed_over": {str(agent.pk): "did not answer by 09:10"},
        "had_their_turn": 0,
    }
    assert rows[-1].candidates == [] and rows[-1].method == "" and rows[-1].chosen_id is None


@pytest.mark.django_db
def test_copy_values_refuses_a_name_that_is_no_field(company):
    with pytest.raises(ValueError, match="agent"):
        copy_values(TimelineEntry, [{"company_id": company.pk, "kind": "x", "agent": 1}])
    with pytest.raises(ValueError, match="id"):
        copy_values(TimelineEntry, [{"company_id": company.pk, "kind": "x", "id": 1}])
    assert not TimelineEntry.objects.filter(kind="x").exists()


@pytest.mark.parametrize("count", [3, COPY_FROM + 5])
@pytest.mark.django_db
def test_insert_values_returns_each_rows_new_key_in_order(company, agent, count):
    from routing.models import Round

    # given rounds as field values, one per contact, and a round stored before them
    contacts = [
        contact_create(company=company, actor=None, phone=f"+1202555{n:04d}") for n in range(count)
    ]
    before = Round.objects.create(
        company=company, contact=contacts[0], method="round_robin", status="assigned"
    )

    # when they are inserted in bulk
    ids = insert_values(
        Round,
        [
            {
                "company_id": company.pk,
                "contact_id": c.pk,
                "method": "round_robin",
                "status": "assigned",
                "assigned_to_id": agent.pk,
            }
            for c in contacts
        ],
    )

    # then each key names the row made of its values, new and distinct, defaults filled in
    assert len(set(ids)) == count and before.pk not in ids
    stored = Round.objects.in_bulk(ids)
    assert [stored[i].contact_id for i in ids] == [c.pk for c in contacts]
    assert all(r.status == "assigned" and r.queue == [] and r.started_at for r in stored.values())
    # and the sequence moved past them: the next row gets a key of its own
    after = Round.objects.create(
        company=company, contact=contacts[0], method="round_robin", status="assigned"
    )
    assert after.pk not in ids


@pytest.mark.django_db
def test_rows_source_updates_a_batch_in_one_statement(company, agent):
    # given three contacts
    contacts = [
        contact_create(company=company, actor=None, phone=f"+1202555014{n}") for n in range(3)
    ]
    # when one UPDATE … FROM the rows (id, name, quotes included) names two of them
    source, params = rows_source(
        [[contacts[0].pk, contacts[2].pk], ["Ann", 'O\'Brien "x"']], ("bigint", "text")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE contacts_contact SET name = v.column2 FROM {source} "  # noqa: S608 - test SQL
            "WHERE contacts_contact.id = v.column1",
            params,
        )
    # then those two, and only they, changed
    for contact in contacts:
        contact.refresh_from_db()
    assert [c.name for c in contacts] == ["Ann", "", 'O\'Brien "x"']


@pytest.mark.parametrize("count", [3, COPY_FROM + 5])
@pytest.mark.django_db
def test_copy_values_json_of_any_shape_and_one_moment_for_the_batch(company, agent, count):
    # given why-log rows whose JSON is a string, numbers as keys, or left to its default
    from routing.models import Decision

    contact = contact_create(company=company, actor=None, phone="+12025550145")
    rows = [
        {
            "company_id": company.pk,
            "contact_id": contact.pk,
            "method": "",
            "candidates": "just a string" if n % 2 else [agent.pk, n],
            "reason": f"row {n}",
        }
        | ({"excluded": {"passed_over": {agent.pk: "away “until” 9:00"}}} if n % 2 else {})
        for n in range(count)
    ]

    # when they are inserted in bulk, without a creation time
    copy_values(Decision, rows)

    # then each JSON value reads back as the ORM would store it, numbers as keys made
    # strings, the default ({}) where none was given; the rows share one moment on
    # PostgreSQL (the batch's), one each through bulk_create
    stored = list(Decision.objects.filter(contact=contact).order_by("pk"))
    assert [d.candidates for d in stored[:2]] == [[agent.pk, 0], "just a string"]
    assert stored[0].excluded == {}
    assert stored[1].excluded == {"passed_over": {str(agent.pk): "away “until” 9:00"}}
    assert all(d.created_at is not None for d in stored)
    if connection.vendor == "postgresql" and count >= COPY_FROM:
        assert len({d.created_at for d in stored}) == 1


def test_int_array_is_a_postgresql_array_literal():
    from agents.bulk import int_array

    assert int_array([3, 1, 2]) == "{3,1,2}"
    assert int_array([7, None]) == "{7,NULL}"
    assert int_array(n for n in (True, 5)) == "{1,5}"
    assert int_array([]) == "{}"


@pytest.mark.django_db
def test_int_array_reads_back_as_the_numbers(company):
    from agents.bulk import int_array

    if connection.vendor != "postgresql":
        pytest.skip("an array parameter is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::bigint[]", [int_array([2**40, None, -1])])
        assert cursor.fetchone()[0] == [2**40, None, -1]
