"""Where an agent's name appears, their out of office / off hours is said beside it: the Lead
Center (Active rows, search, the contact page, their own top bar), the workload page, the
center dashboard; items a cover received say whom for; the capacity queue is counted."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from agents.availability.models import Absence, ItemLoad
from agents.centers.models import CenterMembership
from contacts.models import Interaction
from contacts.services import contact_create
from tests.agents.factories_centers import ContactCenterFactory
from tests.agents.test_centers_pages import member
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db


@pytest.fixture
def ava(company):
    return online(AgentFactory(companies=[company], full_name="Ava Patel", email="ava@acme.test"))


@pytest.fixture
def ben(company):
    return online(AgentFactory(companies=[company], full_name="Ben Okafor", email="ben@acme.test"))


@pytest.fixture
def away(company, ava, ben):
    """Ava is out of office for two days, Ben covering."""
    return Absence.objects.create(
        company=company,
        agent=ava,
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(days=2),
        cover=ben,
    )


@pytest.fixture
def olivia(company, ava):
    contact = contact_create(
        company=company, actor=None, name="Olivia Nguyen", phone="+12025550142"
    )
    from contacts.ownership import contact_assign_primary_agent

    contact_assign_primary_agent(contact=contact, agent=ava, actor=None)
    return contact


def item(company, contact, **fields) -> Interaction:
    defaults = {"channel": "text", "body": "Is Elm Street free?", "route_reason": "test"}
    return Interaction.objects.create(company=company, contact=contact, **{**defaults, **fields})


def page(client, url, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_an_item_a_cover_received_says_whom_for_and_until_when(login, company, ben, away, olivia):
    # given a text of Ava's contact routed to Ben, who covers for her
    item(company, olivia, routed_to=ben, covering_for=away.agent, cover_until=away.ends_at)
    # when Ben opens Mine
    body = page(login(ben), "/lead-center/", tab="mine")
    # then it says he covers for Ava, and until when (a weekday and a time)
    assert re.search(r"covering for Ava Patel until \w{3} \d\d:\d\d", body)


def test_an_active_row_says_its_owner_is_out_of_office(login, company, ben, away, olivia):
    item(company, olivia, pool=Interaction.Pool.ACTIVE)
    body = page(login(ben), "/lead-center/", tab="active")
    assert re.search(
        r"Primary agent: Ava Patel · <span[^>]*>out of office until \w{3} \d\d:\d\d", body
    )


def test_search_results_and_the_contact_page_say_the_owner_is_out(
    login, company, ben, away, olivia
):
    client = login(ben)
    assert "Ava Patel · " in page(client, "/lead-center/", q="Olivia")
    assert "out of office until" in page(client, "/lead-center/", q="Olivia")
    contact = page(client, f"/lead-center/contacts/{olivia.pk}/")
    assert re.search(r"Ava Patel · <span[^>]*>out of office until", contact)


def test_an_owner_at_work_has_no_label(login, company, ben, ava, olivia):
    item(company, olivia, pool=Interaction.Pool.ACTIVE)
    body = page(login(ben), "/lead-center/", tab="active")
    assert "Primary agent: Ava Patel." in body
    assert "out of office until" not in body and "off hours until" not in body


def test_off_hours_owner_and_own_top_bar(login, company, agent, olivia):
    # given a company that works on a day that is not today (in its zone)
    today = timezone.localtime(timezone.now(), timezone.get_fixed_timezone(0)).weekday()
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[(today + 3) % 7]
    company.working_hours = f"{day} 09:00-10:00"
    company.save()
    online(agent)
    item(company, olivia, pool=Interaction.Pool.ACTIVE)
    # when an agent opens the Lead Center
    body = page(login(agent), "/lead-center/", tab="active")
    # then their top bar says they are off hours and where texts go, and Ava's row too
    assert re.search(r"You are off hours until [^:]+:\d\d: texts and forms go to Active\.", body)
    assert "Primary agent: Ava Patel · " in body


def test_my_own_out_of_office_names_my_cover(login, company, ava, away):
    body = page(login(ava), "/lead-center/")
    assert re.search(
        r"You are out of office until [^<]+?: texts and forms go to your cover, Ben Okafor, "
        r"while they can take them, else to Active\.",
        body,
    )
    assert 'href="/availability/"' in body


def test_the_capacity_queue_is_counted_in_the_active_heading_and_not_listed(
    login, company, agent, olivia
):
    # given three items waiting for capacity and one in Active
    online(agent)
    for n in range(3):
        item(
            company,
            olivia,
            pool=Interaction.Pool.QUEUE,
            queued_at=timezone.now(),
            body=f"waiting item {n}",
        )
    item(company, olivia, pool=Interaction.Pool.ACTIVE, body="in active")
    # when the agent opens Active
    body = page(login(agent), "/lead-center/", tab="active")
    # then the heading says 3 wait for capacity; only the Active item is listed to take
    assert "3 waiting for capacity" in body
    # (bodies with spaces: a CSRF token's letters can never contain them)
    assert "in active" in body and "waiting item" not in body
    assert re.search(r'id="tab-active">Active <span class="count">1<', body)


def test_no_queue_no_queue_note(login, company, agent):
    online(agent)
    assert "waiting for capacity" not in page(login(agent), "/lead-center/", tab="active")


def test_workload_shows_load_against_capacity_and_flags_the_full(
    login, supervisor, company, ava, ben, away, olivia
):
    # given Ben at his capacity of 2 (two open items counted), and one item queued
    ben.capacity = 2
    ben.save()
    ItemLoad.objects.create(company=company, agent=ben, total=2, text=2)
    item(
        company,
        olivia,
        pool=Interaction.Pool.QUEUE,
        queued_at=timezone.now() - timedelta(minutes=4),
    )
    # when the supervisor opens the workload page
    body = page(login(supervisor), "/workload/")
    # then Ben's row has a full meter and "Full"; Ava's says out of office; the queue shows
    ben_row = re.search(r'<tr data-agent="ben@acme.test".*?</tr>', body, re.S).group(0)
    assert '<meter class="load" min="0" max="2"' in ben_row and 'value="2"' in ben_row
    assert "Full" in ben_row
    ava_row = re.search(r'<tr data-agent="ava@acme.test".*?</tr>', body, re.S).group(0)
    assert "Out of office until" in ava_row and "Full" not in ava_row
    assert re.search(r'id="queue-length">1<', body)
    assert re.search(r'id="queue-wait">4 min<', body)
    assert "style=" not in body


def test_the_center_dashboard_says_a_member_is_out(client, company, ava, ben, away):
    center = ContactCenterFactory(company=company, name="Support")
    member(center, ben, CenterMembership.Role.SUPERVISOR)
    member(center, ava, CenterMembership.Role.AGENT)
    client.force_login(ben)
    body = page(client, f"/centers/{center.pk}/dashboard/")
    ava_row = re.search(r'<tr data-agent="ava@acme.test".*?</tr>', body, re.S).group(0)
    assert "Out of office until" in ava_row


def test_setting_available_hands_out_queued_items(login, company, agent, olivia):
    # given an agent with room who was away, and an item waiting for capacity
    online(agent, presence="away")
    agent.capacity = 3
    agent.save()
    queued = item(company, olivia, pool=Interaction.Pool.QUEUE, queued_at=timezone.now())
    # when they set themselves Available
    login(agent).post("/lead-center/presence/", {"presence": "available"})
    # then the queued item is theirs at once
    queued.refresh_from_db()
    assert queued.routed_to == agent and queued.pool == ""


def test_my_own_notice_is_above_the_page_not_in_the_top_bar(login, company, ava, away):
    # when Ava, out of office and with her switch on Available, opens the Lead Center
    body = page(login(ava), "/lead-center/")
    # then the notice is a line of the page body, and the switch is dimmed with the reason
    topbar, main = body.split('<main class="page">')
    assert 'id="presence-note"' in main and 'id="presence-note"' not in topbar
    assert "presence-muted" in topbar
    assert re.search(r'<span class="presence-why" id="presence-why">Out of office</span>', topbar)


def test_at_work_the_switch_has_no_reason(login, company, ava):
    body = page(login(ava), "/lead-center/")
    assert "presence-muted" not in body and "presence-note" not in body


def test_a_mine_item_says_when_to_reply_by(login, company, ava, olivia):
    # given open items of Ava's: one due later today (company time), one missed, one in 2 days
    from datetime import datetime

    from agents.zones import local, zone_of

    zone = company.time_zone
    now = local(timezone.now(), zone)
    due = datetime(now.year, now.month, now.day, 23, 58, tzinfo=zone_of(zone))
    if due <= now:  # the last minutes of the day: tomorrow's wording is tested below anyway
        due = now + timedelta(minutes=1)
    item(company, olivia, routed_to=ava, response_due_at=due)
    item(
        company,
        olivia,
        routed_to=ava,
        response_due_at=now - timedelta(minutes=1),
        response_missed_at=now,
    )
    later = now + timedelta(days=2)
    item(company, olivia, routed_to=ava, response_due_at=later)
    # when she opens Mine
    body = page(login(ava), "/lead-center/", tab="mine")
    # then the running deadlines are said, today's by the time, another day's with its day
    assert f"reply by {local(due, zone):%H:%M}<" in body
    assert f"reply by {later:%a %H:%M}<" in body
    assert body.count("reply by ") == 2
