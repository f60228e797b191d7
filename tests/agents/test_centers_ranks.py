"""Skill ranks on the center's own members page (issue 20.3): shown per call type, edited by
the center's admins through ``membership_set_ranks`` / ``skill_rank_set`` (1..100, empty = no
rank, which skills-based routing does not ring for that type)."""

import pytest
from django.core.exceptions import ValidationError

from agents.centers.models import CallType, CenterMembership, SkillRank
from agents.centers.selectors import center_rank_grid
from agents.centers.services import (
    center_add_member,
    membership_set_ranks,
    membership_set_role,
    skill_rank_set,
)
from tests.agents.factories_centers import ContactCenterFactory
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db
Role = CenterMembership.Role


@pytest.fixture
def support(company):
    center = ContactCenterFactory(company=company, name="Support", routing_type="skills")
    CallType.objects.create(center=center, name="billing")
    CallType.objects.create(center=center, name="viewings")
    return center


def member(center, agent, role=Role.AGENT):
    membership = center_add_member(center=center, agent=agent, actor=None)
    return membership_set_role(membership=membership, role=role)


def test_skill_rank_set_stores_changes_and_removes_a_rank(support, agent):
    membership = member(support, agent)
    billing = support.call_types.get(name="billing")
    skill_rank_set(membership=membership, call_type=billing, rank=70)
    skill_rank_set(membership=membership, call_type=billing, rank=85)
    assert SkillRank.objects.get().rank == 85
    skill_rank_set(membership=membership, call_type=billing, rank=None)
    assert not SkillRank.objects.exists()


@pytest.mark.parametrize("rank", [0, 101, -5])
def test_a_rank_outside_1_to_100_is_refused_with_a_clear_message(support, agent, rank):
    membership = member(support, agent)
    billing = support.call_types.get(name="billing")
    with pytest.raises(ValidationError, match="whole number from 1 to 100"):
        skill_rank_set(membership=membership, call_type=billing, rank=rank)


def test_another_centers_call_type_is_refused(support, agent, company):
    membership = member(support, agent)
    other = CallType.objects.create(center=ContactCenterFactory(company=company), name="billing")
    with pytest.raises(ValidationError, match="not a call type of Support"):
        skill_rank_set(membership=membership, call_type=other, rank=50)


def test_a_row_of_ranks_is_saved_all_or_none(support, agent):
    membership = member(support, agent)
    billing, viewings = support.call_types.order_by("name")
    with pytest.raises(ValidationError, match="rank for viewings is a whole number"):
        membership_set_ranks(membership=membership, ranks={billing: "60", viewings: "abc"})
    assert not SkillRank.objects.exists()
    membership_set_ranks(membership=membership, ranks={billing: " 60 ", viewings: ""})
    assert center_rank_grid(center=support)[1] == {membership.pk: {billing.pk: 60}}


def test_the_members_page_shows_each_members_rank_per_call_type(
    login, company, support, supervisor, django_assert_max_num_queries
):
    # given Ava ranked 90 for billing, and a supervisor of the center (who may not edit)
    ava = AgentFactory(companies=[company], full_name="Ava Agent")
    ava_membership = member(support, ava)
    member(support, supervisor, Role.SUPERVISOR)
    skill_rank_set(
        membership=ava_membership, call_type=support.call_types.get(name="billing"), rank=90
    )
    # when the supervisor opens the members page
    html = login(supervisor).get(f"/centers/{support.pk}/").content.decode()
    # then each member's rank per call type shows, "no rank" where there is none; no form
    row = html[html.index(f'data-agent="{ava.email}"') :]
    row = row[: row.index("</tr>")]
    assert "billing 90" in row and 'viewings <span class="muted">no rank</span>' in row
    assert "Save ranks" not in html


def test_a_center_admin_edits_ranks_on_the_members_page(login, company, support):
    # given a center admin (not a company admin) and Ben, unranked
    boss = AgentFactory(companies=[company], full_name="Cora Center-Admin")
    member(support, boss, Role.ADMIN)
    ben = AgentFactory(companies=[company], full_name="Ben Agent")
    ben_membership = member(support, ben)
    billing, viewings = support.call_types.order_by("name")
    client = login(boss)
    page = client.get(f"/centers/{support.pk}/").content.decode()
    assert f'name="rank_{billing.pk}"' in page and "Save ranks" in page
    url = f"/centers/{support.pk}/members/{ben_membership.pk}/ranks/"
    # when they type 60 for billing and leave viewings empty
    done = client.post(url, {f"rank_{billing.pk}": "60", f"rank_{viewings.pk}": ""}, follow=True)
    # then it is saved, and the page shows it
    assert "Skill ranks of Ben Agent saved" in done.content.decode()
    assert SkillRank.objects.get(membership=ben_membership).rank == 60
    assert f'name="rank_{billing.pk}" value="60"' in done.content.decode()
    # and 150 is refused with the reason, nothing changed
    bad = client.post(url, {f"rank_{billing.pk}": "150"}, follow=True).content.decode()
    assert "A rank for billing is a whole number from 1 to 100" in bad
    assert SkillRank.objects.get(membership=ben_membership).rank == 60


def test_only_the_centers_admins_edit_its_ranks(login, company, support, supervisor):
    # given a supervisor of this center, and an admin of another center
    ben_membership = member(support, AgentFactory(companies=[company]))
    member(support, supervisor, Role.SUPERVISOR)
    elsewhere = AgentFactory(companies=[company])
    member(ContactCenterFactory(company=company, name="Sales"), elsewhere, Role.ADMIN)
    billing = support.call_types.get(name="billing")
    url = f"/centers/{support.pk}/members/{ben_membership.pk}/ranks/"
    # then neither may set a rank
    for person in (supervisor, elsewhere):
        assert login(person).post(url, {f"rank_{billing.pk}": "50"}).status_code == 403
    assert not SkillRank.objects.exists()


def test_another_companys_center_ranks_are_not_found(login, company_admin, other_company):
    theirs = ContactCenterFactory(company=other_company)
    membership = member(theirs, AgentFactory(companies=[other_company]))
    url = f"/centers/{theirs.pk}/members/{membership.pk}/ranks/"
    assert login(company_admin).post(url, {}).status_code == 404
