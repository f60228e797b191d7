"""Reassignment and routing in the Lead Center and the admin."""

from html import unescape

import pytest

from contacts.models import Contact
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.models import GroupMember, Offer, ReassignmentGroup, Round, RoutingRule
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db


@pytest.fixture
def ben(company):
    ben = AgentFactory(companies=[company], full_name="Ben Okafor", email="ben@acme.test")
    online(ben)
    return ben


@pytest.fixture
def chloe(company):
    chloe = AgentFactory(companies=[company], full_name="Chloe Martin", email="chloe@acme.test")
    online(chloe)
    return chloe


@pytest.fixture
def group(company, ben, chloe):
    group = ReassignmentGroup.objects.create(
        company=company, name="Closers", method="first_to_claim", claim_window_minutes=10
    )
    for member in (ben, chloe):
        GroupMember.objects.create(group=group, agent=member)
    return group


@pytest.fixture
def olivia(company, agent):
    contact = contact_create(
        company=company, actor=None, name="Olivia Nguyen", phone="+12025550142"
    )
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    return contact


def test_role_group_confirm_then_re_assign_in_progress(login, agent, olivia, group):
    client = login(agent)
    page = client.get(f"/lead-center/contacts/{olivia.pk}/").content.decode()
    assert "Re-assign through" in page and "Closers (first to claim)" in page
    confirm = client.get(f"/lead-center/contacts/{olivia.pk}/reassign/", {"group": group.pk})
    assert "Re-assign Olivia Nguyen?" in unescape(confirm.content.decode())
    assert not Round.objects.exists()  # nothing happens before YES
    response = client.post(
        f"/lead-center/contacts/{olivia.pk}/reassign/",
        {"group": group.pk, "confirm": "yes"},
        follow=True,
    )
    body = response.content.decode()
    assert "Re-Assign in progress" in body
    assert "Offered to Ben Okafor, Chloe Martin" in body
    # the primary agent can't be edited meanwhile: the form says why, next to the field
    edit = client.post(
        f"/lead-center/contacts/{olivia.pk}/edit/",
        {
            "name": "Olivia Nguyen",
            "phone": "+12025550142",
            "primary_agent": group.members.first().agent_id,
        },
    )
    assert "Re-Assign in progress through group “Closers”" in unescape(edit.content.decode())
    olivia.refresh_from_db()
    assert olivia.primary_agent == agent


def test_another_companys_group_is_not_offered_nor_usable(login, agent, olivia, other_company):
    theirs = ReassignmentGroup.objects.create(company=other_company, name="Theirs")
    client = login(agent)
    assert "Theirs" not in client.get(f"/lead-center/contacts/{olivia.pk}/").content.decode()
    response = client.post(
        f"/lead-center/contacts/{olivia.pk}/reassign/",
        {"group": theirs.pk, "confirm": "yes"},
        follow=True,
    )
    assert "Choose a reassignment group." in response.content.decode()
    assert not Round.objects.exists()


def test_offers_tab_and_claim(client, login, agent, olivia, group, ben, chloe):
    login(agent).post(
        f"/lead-center/contacts/{olivia.pk}/reassign/", {"group": group.pk, "confirm": "yes"}
    )
    client.force_login(ben)
    offers = client.get("/lead-center/?tab=offers").content.decode()
    assert "Olivia Nguyen" in offers and "the first to claim gets the contact" in offers
    offer = Offer.objects.get(agent=ben)
    response = client.post(f"/lead-center/offers/{offer.pk}/claim/", follow=True)
    assert "You are now the primary agent of Olivia Nguyen." in response.content.decode()
    client.force_login(chloe)
    late = Offer.objects.get(agent=chloe)
    response = client.post(f"/lead-center/offers/{late.pk}/claim/", follow=True)
    assert "Ben Okafor claimed it first." in response.content.decode()
    # someone else's offer id is not claimable
    response = client.post(f"/lead-center/offers/{offer.pk}/claim/", follow=True)
    assert "This offer is not yours." in response.content.decode()


def test_admin_without_routing_management_sees_groups_read_only(login, company_admin, group):
    client = login(company_admin)
    listing = client.get("/admin/routing/reassignmentgroup/").content.decode()
    assert "Closers" in listing
    assert "/admin/routing/reassignmentgroup/add/" not in listing
    assert client.get("/admin/routing/reassignmentgroup/add/").status_code == 403
    client.post(f"/admin/routing/reassignmentgroup/{group.pk}/change/", {"name": "Renamed"})
    group.refresh_from_db()
    assert group.name == "Closers"


def test_agents_do_not_see_routing_at_all(login, agent, group):
    assert login(agent).get("/admin/routing/reassignmentgroup/").status_code == 302


def test_with_routing_management_an_admin_creates_a_group_with_assignees(
    login, company_admin, ben, company
):
    company_admin.can_manage_routing = True
    company_admin.save()
    client = login(company_admin)
    response = client.post(
        "/admin/routing/reassignmentgroup/add/",
        {
            "name": "Night shift",
            "method": "round_robin",
            "default_assignee": ben.pk,
            "claim_window_minutes": 5,
            "skip_unavailable": "on",
            "members-TOTAL_FORMS": "1",
            "members-INITIAL_FORMS": "0",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
            "members-0-agent": ben.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    group = ReassignmentGroup.objects.get(name="Night shift")
    assert group.company == company
    assert list(group.members.values_list("agent_id", flat=True)) == [ben.pk]
    # and a second group with the same name is an error on the field, not a 500
    again = client.post(
        "/admin/routing/reassignmentgroup/add/",
        {
            "name": "night shift",
            "method": "round_robin",
            "claim_window_minutes": 5,
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
        },
    )
    assert "Another reassignment group of this company has this name." in again.content.decode()


def test_routing_rules_are_listed_in_order_and_reorderable(login, company_admin, company):
    company_admin.can_manage_routing = True
    company_admin.save()
    RoutingRule.objects.create(company=company, name="Zillow leads", position=2, sources="zillow")
    RoutingRule.objects.create(company=company, name="Everything else", position=5)
    body = login(company_admin).get("/admin/routing/routingrule/").content.decode()
    assert body.index("Zillow leads") < body.index("Everything else")
    assert "source in zillow" in body and "any new contact" in body


def test_admin_action_sends_selected_contacts_through_a_group(login, company_admin, olivia, group):
    response = login(company_admin).post(
        "/admin/contacts/contact/",
        {
            "action": "reassign_through_group",
            "_selected_action": [olivia.pk],
            "apply": "1",
            "group": group.pk,
        },
        follow=True,
    )
    assert "Sent 1 contact(s) through Closers." in response.content.decode()
    assert Round.objects.get().contact == olivia
    page = login(company_admin).get(f"/admin/contacts/contact/{olivia.pk}/change/").content.decode()
    assert "Re-Assign in progress" in page


def test_admin_hands_over_an_agents_book(login, company_admin, company, agent, ben, chloe):
    group = ReassignmentGroup.objects.create(company=company, name="Team", method="round_robin")
    for member in (ben, chloe):
        GroupMember.objects.create(group=group, agent=member)
    for n in range(4):
        contact = contact_create(company=company, actor=None, phone=f"+1202555{n + 300:04d}")
        contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    response = login(company_admin).post(
        "/admin/agents/agent/",
        {
            "action": "hand_over_book",
            "_selected_action": [agent.pk],
            "apply": "1",
            "group": group.pk,
        },
        follow=True,
    )
    assert "4 contact(s) of Andy Agent sent through Team." in response.content.decode()
    assert not Contact.objects.filter(primary_agent=agent).exists()
    assert Contact.objects.filter(primary_agent=ben).count() == 2


def test_fairness_page_reports_and_simulates(login, company_admin, company, ben, chloe):
    from routing.rounds import reassignment_start

    group = ReassignmentGroup.objects.create(company=company, name="Team", method="round_robin")
    for member in (ben, chloe):
        GroupMember.objects.create(group=group, agent=member)
    for n in range(3):
        contact = contact_create(company=company, actor=None, phone=f"+1202555{n + 400:04d}")
        reassignment_start(contact=contact, group=group, actor=None)
    body = (
        login(company_admin)
        .get(f"/admin/routing/reassignmentgroup/{group.pk}/fairness/?simulate=3")
        .content.decode()
    )
    assert 'id="fairness-spread">1<' in body
    simulation = body.split('id="simulation">')[1].split("</ol>")[0]
    assert [line.split("<")[0] for line in simulation.split("<li>")[1:]] == [
        "Chloe Martin",
        "Ben Okafor",
        "Chloe Martin",
    ]


def test_a_company_admin_cannot_grant_themselves_routing_management(login, company_admin):
    client = login(company_admin)
    client.post(
        f"/admin/agents/agent/{company_admin.pk}/change/",
        {
            "email": company_admin.email,
            "full_name": company_admin.full_name,
            "access_level": "admin",
            "is_active": "on",
            "can_manage_routing": "on",
            # the contact-center inlines of the agent form (license, devices), left as they are
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-license": "ai_contact_center",
            "devices-TOTAL_FORMS": "0",
            "devices-INITIAL_FORMS": "0",
        },
    )
    company_admin.refresh_from_db()
    assert not company_admin.can_manage_routing
    assert not company_admin.has_perm("routing.manage_routing")


def test_a_routing_manager_can_grant_it_to_a_colleague(login, company_admin, agent):
    # given: a colleague made an Admin (only Admins reach the screens it opens; see
    # test_routing_management_is_refused_for_levels_that_cannot_use_it)
    company_admin.can_manage_routing = True
    company_admin.save()
    login(company_admin).post(
        f"/admin/agents/agent/{agent.pk}/change/",
        {
            "email": agent.email,
            "full_name": agent.full_name,
            "access_level": "admin",
            "is_active": "on",
            "can_manage_routing": "on",
            # the contact-center inlines of the agent form (license, devices), left as they are
            "line-TOTAL_FORMS": "1",
            "line-INITIAL_FORMS": "0",
            "line-0-license": "ai_contact_center",
            "devices-TOTAL_FORMS": "0",
            "devices-INITIAL_FORMS": "0",
        },
    )
    agent.refresh_from_db()
    assert agent.can_manage_routing and agent.has_perm("routing.manage_routing")


def test_rule_with_equal_active_hours_is_refused_on_the_form(login, company_admin, company):
    company_admin.can_manage_routing = True
    company_admin.save()
    response = login(company_admin).post(
        "/admin/routing/routingrule/add/",
        {
            "name": "Odd",
            "position": 1,
            "method": "round_robin",
            "claim_window_minutes": 5,
            "active_from": "09:00",
            "active_until": "09:00",
            "members-TOTAL_FORMS": "0",
            "members-INITIAL_FORMS": "0",
            "members-MIN_NUM_FORMS": "0",
            "members-MAX_NUM_FORMS": "1000",
        },
    )
    assert "start and end at the same time" in response.content.decode()
    assert not RoutingRule.objects.exists()


@pytest.mark.parametrize("value", ["²", "abc"])
def test_odd_group_values_in_admin_actions_are_no_500(login, company_admin, olivia, value):
    response = login(company_admin).post(
        "/admin/contacts/contact/",
        {
            "action": "reassign_through_group",
            "_selected_action": [olivia.pk],
            "apply": "1",
            "group": value,
        },
    )
    assert response.status_code == 200
    assert "Choose a group." in response.content.decode()


def _simulated(body: str, list_id: str) -> list[str]:
    items = body.split(f'id="{list_id}">')[1].split("</ol>")[0]
    return [line.split("<")[0] for line in items.split("<li>")[1:]]


def _group(company, name, method, people):
    group = ReassignmentGroup.objects.create(company=company, name=name, method=method)
    for member in people:
        GroupMember.objects.create(group=group, agent=member)
    return group


def _fairness(client, group, **query) -> str:
    url = f"/admin/routing/reassignmentgroup/{group.pk}/fairness/"
    return client.get(url, query).content.decode()


def test_a_ten_member_round_robin_simulates_each_member_in_turn(login, company_admin, company):
    # given a round robin of ten available members
    people = [AgentFactory(companies=[company], full_name=f"Member {n:02d}") for n in range(10)]
    online(*people)
    group = _group(company, "Ten", "round_robin", people)
    # when the admin simulates the next ten contacts
    body = _fairness(login(company_admin), group, simulate=10)
    # then each member comes once, in turn, and no note about skipped members is shown
    assert _simulated(body, "simulation") == [str(p) for p in people]
    assert 'id="simulation-skipped"' not in body


def test_a_simulation_of_offline_members_says_why_one_name_repeats(login, company_admin, company):
    # given a round robin of ten members of whom only the first is online
    people = [AgentFactory(companies=[company], full_name=f"Member {n:02d}") for n in range(10)]
    online(people[0])
    group = _group(company, "Ten", "round_robin", people)
    # when the admin simulates the next ten contacts
    body = _fairness(login(company_admin), group, simulate=10)
    # then the one online member gets them all (right: the others are skipped now), the page
    # says who is skipped and why, and shows the rotation as if everyone were available
    assert _simulated(body, "simulation") == ["Member 00"] * 10
    note = body.split('id="simulation-skipped">')[1].split("</p>")[0]
    assert "a contact sent now skips 9 assignee(s)" in note
    assert "Member 01 (offline)" in note
    assert _simulated(body, "simulation-all") == [str(p) for p in people]


def test_a_first_to_claim_group_shows_who_is_offered_not_one_name_ten_times(
    login, company_admin, company
):
    # given a first-to-claim group of three, one of them offline
    people = [AgentFactory(companies=[company], full_name=f"Member {n:02d}") for n in range(3)]
    online(people[0], people[1])
    group = _group(company, "Claim", "first_to_claim", people)
    # when the admin opens its fairness page
    body = _fairness(login(company_admin), group)
    # then it lists who the next contact is offered to at once, and who is passed over
    offered = body.split('id="simulation-offered">')[1].split("</ul>")[0]
    assert [li.split("<")[0] for li in offered.split("<li>")[1:]] == ["Member 00", "Member 01"]
    assert 'id="simulation">' not in body
    note = body.split('id="simulation-skipped">')[1].split("</p>")[0]
    assert "not offered to 1 assignee(s): Member 02 (offline)" in note
    assert "offered to all 3" in note
