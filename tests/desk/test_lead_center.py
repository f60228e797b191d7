from html import unescape

import pytest
from django.core import mail

from agents.models import AccessLevel, Presence
from contacts.models import Contact, Interaction, TimelineEntry
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.inbound import inbound_receive
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = pytest.mark.django_db


@pytest.fixture
def ben(company):
    return online(AgentFactory(companies=[company], full_name="Ben Okafor", email="ben@acme.test"))


@pytest.fixture
def olivia(company, agent):
    contact = contact_create(
        company=company, actor=None, name="Olivia Nguyen", phone="+12025550142"
    )
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    return contact


def text(company, phone="+12025550142", body="Hi", channel="text"):
    return inbound_receive(company=company, channel=channel, phone=phone, body=body)[0]


def test_a_text_routed_to_me_is_in_mine_and_not_in_anyone_elses_inbox(
    login, company, agent, ben, olivia
):
    online(agent)
    text(company, body="Is Elm Street free?")
    mine = login(agent).get("/lead-center/?tab=mine").content.decode()
    assert "Is Elm Street free?" in mine
    theirs_mine = login(ben).get("/lead-center/?tab=mine").content.decode()
    theirs_active = login(ben).get("/lead-center/?tab=active").content.decode()
    assert "Is Elm Street free?" not in theirs_mine + theirs_active


def test_with_the_primary_away_the_text_shows_in_active_for_available_agents(
    login, company, agent, ben, olivia
):
    online(agent, presence=Presence.AWAY)
    text(company, body="Anyone there?")
    active = login(ben).get("/lead-center/?tab=active").content.decode()
    assert "Anyone there?" in active
    assert "is away" in active
    # the away primary agent does not see the pool
    away = login(agent).get("/lead-center/?tab=active").content.decode()
    assert "Anyone there?" not in away
    assert "Set yourself <b>Available</b>" in away


def test_taking_an_active_item_makes_it_mine_and_a_second_taker_is_told(
    client, login, company, agent, ben, olivia
):
    online(agent, presence=Presence.OFFLINE)
    chloe = online(AgentFactory(companies=[company], full_name="Chloe Martin"))
    item = text(company, body="Call me back")
    # when Ben takes it
    response = login(ben).post(f"/lead-center/interactions/{item.pk}/take/", follow=True)
    assert "It's yours: text from Olivia Nguyen." in unescape(response.content.decode())
    item.refresh_from_db()
    assert (item.routed_to, item.taken_by) == (ben, ben)
    assert "Call me back" in client.get("/lead-center/?tab=mine").content.decode()
    # then Chloe, taking it too late, is told who won
    client.force_login(chloe)
    response = client.post(f"/lead-center/interactions/{item.pk}/take/", follow=True)
    assert "Ben Okafor took this one first." in response.content.decode()
    item.refresh_from_db()
    assert item.taken_by == ben


def test_an_away_agent_cannot_take(login, company, agent, olivia):
    online(agent, presence=Presence.AWAY)
    item = text(company)
    response = login(agent).post(f"/lead-center/interactions/{item.pk}/take/", follow=True)
    assert "Set yourself Available" in response.content.decode()
    item.refresh_from_db()
    assert item.taken_by is None


def test_marking_handled_clears_it_from_mine(login, company, agent, olivia, ben):
    online(agent)
    item = text(company, body="Thanks!")
    client = login(agent)
    client.post(f"/lead-center/interactions/{item.pk}/handled/")
    item.refresh_from_db()
    assert item.status == Interaction.Status.HANDLED and item.handled_by == agent
    assert "Thanks!" not in client.get("/lead-center/").content.decode()
    # nobody else can mark another's item
    other = text(company, body="Again")
    response = login(ben).post(f"/lead-center/interactions/{other.pk}/handled/", follow=True)
    assert "This is in Andy Agent's inbox." in unescape(response.content.decode())


def test_another_companys_item_cannot_be_taken(login, other_company, ben):
    theirs = text(other_company)
    response = login(ben).post(f"/lead-center/interactions/{theirs.pk}/take/", follow=True)
    assert "no longer exists" in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.taken_by is None


@pytest.mark.parametrize("term", ["202 555 0142", "+12025550142", "olivia", "Nguyen"])
def test_inbox_search_finds_the_contact_by_number_or_name(login, agent, olivia, company, term):
    ContactFactory(company=company, name="Someone Else", phone="+12025550199")
    body = login(agent).get("/lead-center/", {"q": term}).content.decode()
    assert "Olivia Nguyen" in body
    assert "Someone Else" not in body


def test_search_never_shows_another_companys_contacts(login, agent, other_company):
    ContactFactory(company=other_company, name="Olivia Other", phone="+12025550142")
    body = login(agent).get("/lead-center/", {"q": "Olivia"}).content.decode()
    assert "Olivia Other" not in body
    assert "No contact has that number or name" in body


def test_contact_page_shows_details_interactions_and_timeline(login, agent, company, olivia):
    online(agent)
    text(company, body="Hello there")
    body = login(agent).get(f"/lead-center/contacts/{olivia.pk}/").content.decode()
    assert "Olivia Nguyen" in body and "+1 202-555-0142" in body
    assert "Hello there" in body
    assert "Primary agent set to Andy Agent by Switchboard." in body


def test_another_companys_contact_page_is_a_404(login, agent, other_company):
    theirs = ContactFactory(company=other_company)
    client = login(agent)
    assert client.get(f"/lead-center/contacts/{theirs.pk}/").status_code == 404
    assert client.get(f"/lead-center/contacts/{theirs.pk}/edit/").status_code == 404


def test_add_contact_with_a_primary_agent(
    login, agent, ben, company, django_capture_on_commit_callbacks
):
    client = login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/lead-center/contacts/new/",
            {
                "name": "Nora New",
                "phone": "202-555-0177",
                "email": "",
                "source": "walk-in",
                "primary_agent": ben.pk,
            },
        )
    contact = Contact.objects.get(name="Nora New")
    assert response["Location"] == f"/lead-center/contacts/{contact.pk}/"
    assert contact.primary_agent == ben
    assert [e.kind for e in contact.timeline.all()] == [
        TimelineEntry.Kind.PRIMARY_ASSIGNED,
        TimelineEntry.Kind.CONTACT_CREATED,
    ]
    assert contact.timeline.first().message == (
        "Primary agent set to Ben Okafor by Andy Agent — set in the Lead Center."
    )
    assert [m.to for m in mail.outbox] == [["ben@acme.test"]]


def test_primary_agent_dropdown_lists_only_the_companys_active_lead_center_people(
    login, agent, ben, company, other_admin, leads_agent
):
    AgentFactory(companies=[company], full_name="Gone Agent", is_active=False)
    body = login(agent).get("/lead-center/contacts/new/").content.decode()
    assert "Ben Okafor" in body and "Andy Agent" in body
    assert "Gus Globex" not in body
    assert "Gone Agent" not in body
    assert "Lea Leads" not in body


def test_form_errors_show_next_to_the_fields_and_nothing_is_saved(
    login, agent, other_admin, olivia
):
    response = login(agent).post(
        "/lead-center/contacts/new/",
        {"name": "Dup", "phone": "(202) 555-0142", "email": "bad", "primary_agent": other_admin.pk},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "already belongs to Olivia Nguyen" in body
    assert "Enter a valid email address" in body
    assert "Select a valid choice" in body
    assert Contact.objects.count() == 1


def test_edit_changes_the_primary_agent_with_a_timeline_row(login, agent, ben, olivia):
    login(agent).post(
        f"/lead-center/contacts/{olivia.pk}/edit/",
        {"name": "Olivia Nguyen", "phone": "+12025550142", "primary_agent": ben.pk},
    )
    olivia.refresh_from_db()
    assert olivia.primary_agent == ben
    assert olivia.timeline.first().message == (
        "Primary agent changed from Andy Agent to Ben Okafor by Andy Agent"
        " — set in the Lead Center."
    )


def test_agents_set_their_presence(login, agent):
    client = login(agent)
    client.post("/lead-center/presence/", {"presence": "away", "next": "/lead-center/"})
    agent.refresh_from_db()
    assert agent.presence == Presence.AWAY
    response = client.post("/lead-center/presence/", {"presence": "sleeping"}, follow=True)
    assert "Choose Available, Away or Offline." in response.content.decode()


def test_logging_out_sets_the_agent_offline(login, agent):
    client = login(agent)
    online(agent)
    client.post("/logout/")
    agent.refresh_from_db()
    assert agent.presence == Presence.OFFLINE


def test_leads_agents_do_not_use_the_lead_center(login, leads_agent):
    assert login(leads_agent).get("/lead-center/").status_code == 403


def test_inbox_query_count_is_constant(login, agent, company, olivia, django_assert_num_queries):
    online(agent)
    client = login(agent)
    text(company)
    client.get("/lead-center/")
    for n in range(20):
        text(company, phone=f"+1202555{n + 300:04d}")  # unknown numbers: Active
        text(company, body=f"mine {n}")
    # 1 session, 2 user, 3 company, 4 count mine, 5 count active with the capacity queue,
    # 6 count offers, 7 the items with contacts (and owners, covers), 8 the absences of the
    # agent and the owners shown (availability: hours and holidays are on rows read), 9 the
    # companies for the picker
    with django_assert_num_queries(9):
        client.get("/lead-center/")
    with django_assert_num_queries(9):
        client.get("/lead-center/?tab=active")


def test_contact_page_query_count_is_constant(
    login, agent, company, olivia, ben, django_assert_num_queries
):
    online(agent)
    client = login(agent)
    for n in range(15):
        text(company, body=f"msg {n}")
        contact_assign_primary_agent(contact=olivia, agent=ben if n % 2 else agent, actor=agent)
    # 1 session, 2 user, 3 company, 4 contact with primary agent, 5 the primary agent's
    # absence now (availability), 6 interactions with agents and covers, 7 timeline with
    # actors and agents, 8 open re-assign round, 9 the company's groups, 10 the companies
    # for the picker
    with django_assert_num_queries(10):
        response = client.get(f"/lead-center/contacts/{olivia.pk}/")
    assert response.status_code == 200


def test_workload_shows_each_agents_load_and_the_spread(login, supervisor, company, agent, ben):
    online(agent)
    for _ in range(3):
        c = ContactFactory(company=company)
        contact_assign_primary_agent(contact=c, agent=agent, actor=None)
    fourth = ContactFactory(company=company)
    contact_assign_primary_agent(contact=fourth, agent=agent, actor=None)
    text(company, phone=fourth.phone)
    c = ContactFactory(company=company)
    contact_assign_primary_agent(contact=c, agent=ben, actor=None)
    item = text(company, phone=ContactFactory(company=company).phone)
    from contacts.interactions import interaction_take

    interaction_take(company=company, interaction_id=item.pk, agent=ben)
    response = login(supervisor).get("/workload/?sort=-primary")
    rows = {r.agent.email: r for r in response.context["rows"]}
    assert (rows["agent@acme.test"].primary, rows["agent@acme.test"].open) == (4, 1)
    assert rows["agent@acme.test"].assigned == 4
    assert (rows["ben@acme.test"].primary, rows["ben@acme.test"].taken_today) == (1, 1)
    assert rows["agent@acme.test"].presence == "available"
    assert response.context["rows"][0].agent == agent  # sorted by primary, descending
    assert response.context["spread"] == 3  # between the agents: Andy 4, Ben 1
    assert response.context["totals"]["waiting"] == 0
    body = response.content.decode()
    assert "<svg" in body and "Primary contacts per agent" in body


def test_workload_query_count_is_constant(login, supervisor, company, django_assert_num_queries):
    client = login(supervisor)
    client.get("/workload/")
    for _ in range(10):
        a = AgentFactory(companies=[company])
        ContactFactory.create_batch(2, company=company, primary_agent=a)
    # 1 session, 2 user, 3 company, 4 the agents with their four counts, 5 items waiting in
    # Active, 6 the agents' absences now (availability), 7 their open items per channel
    # (capacity_rows: nobody has a capacity here; with capacities, their counters too: 8),
    # 8 the capacity queue's length and oldest, 9 pending campaign records per agent, 10 open
    # leads per leads agent, 11 the leads agents, 12 the company picker
    with django_assert_num_queries(12):
        response = client.get("/workload/")
    assert len(response.context["rows"]) == 11


@pytest.mark.parametrize("person", ["agent", "leads_agent"])
def test_workload_is_for_admins_and_supervisors_only(login, request, person):
    assert login(request.getfixturevalue(person)).get("/workload/").status_code == 403


def test_workload_shows_only_the_companys_agents(login, company_admin, other_admin):
    body = login(company_admin).get("/workload/").content.decode()
    assert "Gus Globex" not in body
    assert AccessLevel.ADMIN


def test_every_access_level_keeps_its_heartbeat(login, leads_agent):
    # The base page pings for everyone logged in; a leads agent's ping is no 403.
    assert login(leads_agent).get("/lead-center/ping/").status_code == 204
