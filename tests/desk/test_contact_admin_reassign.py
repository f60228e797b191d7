"""The admin's bulk actions and list around contacts that are *Re-Assign in progress*."""

from html import unescape

import pytest

from contacts.models import Contact
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.models import GroupMember, ReassignmentGroup
from routing.rounds import reassignment_start
from tests.factories import AgentFactory, online

pytestmark = pytest.mark.django_db


@pytest.fixture
def held_and_free(company, agent):
    ben = online(AgentFactory(companies=[company], full_name="Ben Okafor"))
    group = ReassignmentGroup.objects.create(
        company=company, name="Closers", method="first_to_claim"
    )
    GroupMember.objects.create(group=group, agent=ben)
    held = contact_create(company=company, actor=None, name="Held Hana", phone="+12025550142")
    free = contact_create(company=company, actor=None, name="Free Fred", phone="+12025550143")
    dora = AgentFactory(companies=[company], full_name="Dora Owner")
    for contact in (held, free):
        contact_assign_primary_agent(contact=contact, agent=dora, actor=None)
    reassignment_start(contact=held, group=group, actor=None)
    return held, free


@pytest.mark.parametrize("action", ["assign_primary_agent", "unassign_primary_agent"])
def test_a_bulk_action_changes_the_others_and_says_which_were_left_out(
    login, company_admin, agent, held_and_free, action
):
    held, free = held_and_free
    data = {"action": action, "_selected_action": [held.pk, free.pk], "apply": "1"}
    if action == "assign_primary_agent":
        data["agent"] = agent.pk
    # when the admin runs the action on both (it used to answer 500)
    response = login(company_admin).post("/admin/contacts/contact/", data, follow=True)

    # then the free one changed, the held one did not, and the page says why
    page = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Left out 1 contact(s), unchanged: Held Hana (Re-Assign in progress through" in page
    assert Contact.objects.get(pk=held.pk).primary_agent.full_name == "Dora Owner"
    expected = agent if action == "assign_primary_agent" else None
    assert Contact.objects.get(pk=free.pk).primary_agent == expected


def test_the_contact_list_shows_and_filters_re_assign_in_progress(
    login, company_admin, held_and_free
):
    held, free = held_and_free
    client = login(company_admin)
    page = unescape(client.get("/admin/contacts/contact/").content.decode())
    assert "Re-Assign in progress" in page
    filtered = unescape(
        client.get("/admin/contacts/contact/?reassign=in_progress").content.decode()
    )
    assert "Held Hana" in filtered and "Free Fred" not in filtered
