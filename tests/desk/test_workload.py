"""The workload page says who is overloaded, counts people consistently and picks a period."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import TimelineEntry
from contacts.ownership import contacts_assign_primary_agent_bulk
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db


def give(company, agent, n):
    contacts = ContactFactory.create_batch(n, company=company)
    contacts_assign_primary_agent_bulk(
        company=company, contact_ids=[c.pk for c in contacts], agent=agent, actor=None
    )


@pytest.fixture
def team(company, company_admin, supervisor):
    """Three agents with 10, 10 and 16 contacts: an average of 12, Cleo 33% above it."""
    people = {}
    for name, n in (("Ann", 10), ("Bob", 10), ("Cleo", 16)):
        people[name] = online(AgentFactory(companies=[company], full_name=name))
        give(company, people[name], n)
    online(company_admin, supervisor)
    return people


def test_agents_more_than_20_percent_above_the_average_are_flagged_in_words(
    login, supervisor, team
):
    response = login(supervisor).get("/workload/")
    rows = {r.agent.full_name: r for r in response.context["rows"]}
    # the average is over the agents: the admin's and supervisor's zeros don't pull it down
    assert response.context["totals"]["average"] == 12
    assert [name for name, r in rows.items() if r.overloaded] == ["Cleo"]
    body = response.content.decode()
    assert 'id="overload-notice"' in body
    assert "Cleo (+33%)" in body
    cleo_row = re.search(r'<tr data-agent="[^"]+" class="is-over">(.*?)</tr>', body, re.S)
    assert "Cleo" in cleo_row.group(1) and "Overloaded" in cleo_row.group(1)
    assert body.count('class="badge-over">Overloaded<') == 2  # in the chart and the table
    # the chart draws the average as a line in every bar: one per agent (the admin's and
    # the supervisor's zeros, not in the average, are no bars: they own no contacts)
    assert body.count('class="chart-avg"') == 3


def test_an_even_team_has_nobody_flagged(login, supervisor, company):
    for name in ("Ann", "Bob"):
        give(company, AgentFactory(companies=[company], full_name=name), 10)
    body = login(supervisor).get("/workload/").content.decode()
    assert "Overloaded" not in body


def test_the_header_counts_the_same_people_the_rows_show(login, supervisor, team, company):
    # given everyone listed is available except Bob, who is away
    online(team["Bob"], presence="away")
    response = login(supervisor).get("/workload/")
    rows = response.context["rows"]
    shown_available = sum(1 for r in rows if r.presence == "available")
    assert (len(rows), shown_available) == (5, 4)  # three agents, the admin and the supervisor
    assert '<span class="stat-value" id="available">4 / 5</span>' in response.content.decode()


@pytest.mark.parametrize(
    ("period", "label", "expected"),
    [
        ("today", "today", 1),
        ("7d", "last 7 days", 2),
        ("30d", "last 30 days", 3),
        ("bad", "today", 1),
    ],
)
def test_the_assigned_column_counts_the_chosen_period(
    login, supervisor, company, period, label, expected
):
    # given assignments to Ann now, 3 days ago and 20 days ago
    ann = AgentFactory(companies=[company], full_name="Ann")
    give(company, ann, 3)
    entries = list(TimelineEntry.objects.filter(agent=ann).order_by("pk"))
    for entry, days in zip(entries[1:], (3, 20), strict=True):
        TimelineEntry.objects.filter(pk=entry.pk).update(
            created_at=timezone.now() - timedelta(days=days)
        )
    response = login(supervisor).get("/workload/", {"period": period})
    row = next(r for r in response.context["rows"] if r.agent == ann)
    assert row.assigned == expected
    assert f"Assigned, {label}" in response.content.decode()


def test_today_is_the_default_period(login, supervisor):
    body = login(supervisor).get("/workload/").content.decode()
    assert 'class="current" aria-current="true">Today<' in body


def test_workload_query_count_stays_constant_with_a_period(
    login, supervisor, company, django_assert_num_queries
):
    client = login(supervisor)
    client.get("/workload/")  # records "last seen" once a minute: not part of the count
    for _ in range(8):
        give(company, AgentFactory(companies=[company]), 2)
    # 1 session, 2 user, 3 company, 4 the agents with their four counts, 5 items waiting in
    # Active, 6 the agents' absences now (availability), 7 their open items per channel
    # (capacity_rows: nobody has a capacity here; with capacities, their counters too: 8),
    # 8 the capacity queue's length and oldest, 9 pending campaign records per agent, 10 open
    # leads per leads agent, 11 the leads agents, 12 the company picker
    with django_assert_num_queries(12):
        response = client.get("/workload/", {"period": "30d", "sort": "-assigned"})
    assert len(response.context["rows"]) == 9


def test_admins_and_supervisors_are_not_compared_with_the_agents_average(
    login, supervisor, company_admin, team
):
    # given three agents averaging 12 contacts, and an admin and a supervisor who own none
    # when the supervisor opens the workload page
    body = login(supervisor).get("/workload/").content.decode()
    # then the admin's and supervisor's rows show "—" against the average, not "−100%"
    for email in (company_admin.email, supervisor.email):
        row = re.search(rf'<tr data-agent="{re.escape(email)}"[^>]*>(.*?)</tr>', body, re.S)
        share = re.search(r'<td class="num share">(.*?)</td>', row.group(1), re.S).group(1)
        assert share.strip() == "—"
    assert "-100%" not in body and "−100%" not in body
    # and the agents still are: Ann has 10 of an average 12
    ann = re.search(r'<tr data-agent="[^"]+"[^>]*>\s*<td>Ann (.*?)</tr>', body, re.S)
    assert "-17%" in ann.group(1)


def test_an_admin_who_owns_contacts_has_a_bar(login, supervisor, company_admin, company, team):
    give(company, company_admin, 3)
    body = login(supervisor).get("/workload/").content.decode()
    chart = body.split('id="workload-chart"')[1].split("</ul>")[0]
    assert str(company_admin) in chart and str(supervisor) not in chart
    assert chart.count('class="chart-avg"') == 4
