"""Contact centers: members, the 100-center limit, roles and their rights, licenses."""

import pytest
from django.core.exceptions import ValidationError

from agents.centers.licenses import (
    agent_set_license,
    agent_upgrade_license,
    license_check_assignable,
)
from agents.centers.models import (
    MAX_CENTERS_PER_AGENT,
    CenterMembership,
    ContactCenter,
    License,
    LicenseUpgrade,
    PhoneNumber,
)
from agents.centers.services import (
    agent_set_centers,
    center_add_member,
    center_add_members,
    center_remove_member,
    coaching_request,
    membership_set_role,
)
from agents.models import AccessLevel
from tests.agents.factories_centers import ContactCenterFactory, PhoneNumberFactory
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db
Role = CenterMembership.Role


def full_agent(company):
    """An agent already in the most centers allowed."""
    agent = AgentFactory(companies=[company])
    centers = ContactCenter.objects.bulk_create(
        ContactCenter(company=company, name=f"Full {agent.pk}-{i}")
        for i in range(MAX_CENTERS_PER_AGENT)
    )
    CenterMembership.objects.bulk_create(CenterMembership(center=c, agent=agent) for c in centers)
    return agent


# --- Members and the limit -------------------------------------------------------------------
def test_an_agent_added_to_a_center_is_an_agent_member_without_center_rights(company, agent):
    center = ContactCenterFactory(company=company)
    membership = center_add_member(center=center, agent=agent, actor=None)
    assert membership.role == Role.AGENT
    assert not agent.has_perm("agents.view_center_dashboard", center)


def test_the_101st_center_is_refused_with_a_clear_message(company):
    # given an agent in 100 centers
    agent = full_agent(company)
    extra = ContactCenterFactory(company=company, name="One too many")
    # when they are added to one more
    with pytest.raises(ValidationError) as error:
        center_add_member(center=extra, agent=agent, actor=None)
    # then it is refused and says why
    assert "already belongs to 100 contact centers" in str(error.value)
    assert not CenterMembership.objects.filter(center=extra, agent=agent).exists()


def test_bulk_add_refuses_the_agent_at_the_limit_and_adds_nobody(company):
    full = full_agent(company)
    fresh = AgentFactory(companies=[company])
    center = ContactCenterFactory(company=company)
    with pytest.raises(ValidationError) as error:
        center_add_members(center=center, agents=[fresh, full], actor=None)
    assert str(full) in str(error.value) and "100 contact centers" in str(error.value)
    assert not CenterMembership.objects.filter(center=center).exists()


def test_user_checkboxes_refuse_a_101st_center(company):
    agent = full_agent(company)
    current = list(ContactCenter.objects.filter(members__agent=agent))
    extra = ContactCenterFactory(company=company)
    with pytest.raises(ValidationError, match="100 contact centers"):
        agent_set_centers(agent=agent, centers=[*current, extra], company=company, actor=None)
    # swapping one for another stays within the limit and works
    agent_set_centers(agent=agent, centers=[*current[1:], extra], company=company, actor=None)
    assert agent.center_memberships.count() == MAX_CENTERS_PER_AGENT
    assert agent.center_memberships.filter(center=extra).exists()


def test_unchecking_a_center_removes_the_agent_and_their_rights(company, agent):
    a, b = ContactCenterFactory(company=company), ContactCenterFactory(company=company)
    agent_set_centers(agent=agent, centers=[a, b], company=company, actor=None)
    membership_set_role(membership=agent.center_memberships.get(center=a), role=Role.ADMIN)
    agent_set_centers(agent=agent, centers=[b], company=company, actor=None)
    assert list(agent.center_memberships.values_list("center", flat=True)) == [b.pk]
    agent = type(agent).objects.get(pk=agent.pk)  # fresh permission cache
    assert not agent.has_perm("agents.view_center_dashboard", a)


def test_an_agent_of_another_company_cannot_join(company, other_admin):
    center = ContactCenterFactory(company=company)
    with pytest.raises(ValidationError, match="not a member of"):
        center_add_member(center=center, agent=other_admin, actor=None)


# --- Roles and rights (guardian) -------------------------------------------------------------
def fresh(agent):
    return type(agent).objects.get(pk=agent.pk)


def test_roles_grant_exactly_their_rights_on_their_own_center_only(company, agent):
    a, b = ContactCenterFactory(company=company), ContactCenterFactory(company=company)
    membership = center_add_member(center=a, agent=agent, actor=None)
    center_add_member(center=b, agent=agent, actor=None)

    membership_set_role(membership=membership, role=Role.SUPERVISOR)
    sup = fresh(agent)
    assert sup.has_perm("agents.view_center_dashboard", a)
    assert sup.has_perm("agents.set_center_alerts", a)
    assert sup.has_perm("agents.coach_center", a)
    assert not sup.has_perm("agents.edit_center_settings", a)

    membership_set_role(membership=membership, role=Role.ADMIN)
    admin = fresh(agent)
    assert admin.has_perm("agents.edit_center_settings", a)
    # an admin of center A is nobody in center B
    assert not admin.has_perm("agents.view_center_dashboard", b)
    assert not admin.has_perm("agents.edit_center_settings", b)

    membership_set_role(membership=membership, role=Role.AGENT)
    back = fresh(agent)
    assert not back.has_perm("agents.view_center_dashboard", a)
    assert not back.has_perm("agents.edit_center_settings", a)


def test_removing_a_member_revokes_their_rights(company, agent):
    center = ContactCenterFactory(company=company)
    membership = center_add_member(center=center, agent=agent, actor=None)
    membership_set_role(membership=membership, role=Role.ADMIN)
    center_remove_member(center=center, agent=agent)
    assert not fresh(agent).has_perm("agents.edit_center_settings", center)


def test_only_supervisors_record_coaching_requests(company, agent, supervisor):
    center = ContactCenterFactory(company=company)
    center_add_member(center=center, agent=agent, actor=None)
    sup = center_add_member(center=center, agent=supervisor, actor=None)
    with pytest.raises(ValidationError, match="supervisors and admins"):
        coaching_request(
            center=center,
            supervisor=fresh(agent),
            agent=supervisor,
            action="listen",
            on_live_call=True,
        )
    membership_set_role(membership=sup, role=Role.SUPERVISOR)
    request = coaching_request(
        center=center, supervisor=fresh(supervisor), agent=agent, action="barge", on_live_call=True
    )
    assert (request.requested_by, request.agent, request.get_action_display()) == (
        supervisor,
        agent,
        "Barge in",
    )


# --- Licenses --------------------------------------------------------------------------------
def test_an_ai_voice_user_must_be_upgraded_before_joining(company, agent):
    agent_set_license(agent=agent, license=License.AI_VOICE)
    center = ContactCenterFactory(company=company)
    with pytest.raises(ValidationError, match="upgrade them"):
        center_add_member(center=center, agent=agent, actor=None)


def test_upgrade_keeping_numbers_is_billed_and_recorded(company, agent, company_admin):
    agent_set_license(agent=agent, license=License.AI_VOICE)
    PhoneNumberFactory(company=company, agent=agent, number="+12025550111")
    center = ContactCenterFactory(company=company)
    upgrade = agent_upgrade_license(
        agent=agent,
        to_license=License.AI_CONTACT_CENTER,
        keep_numbers=True,
        actor=company_admin,
        center=center,
    )
    assert (upgrade.from_license, upgrade.to_license) == (License.AI_VOICE, "ai_contact_center")
    assert upgrade.numbers == ["+12025550111"] and upgrade.numbers_kept
    assert "1 additional number" in upgrade.billing
    assert upgrade.upgraded_by == company_admin
    assert agent.numbers.count() == 1
    # and now they may join
    center_add_member(center=center, agent=agent, actor=company_admin)


def test_upgrade_removing_numbers_frees_them(company, agent, company_admin):
    agent_set_license(agent=agent, license=License.AI_VOICE)
    PhoneNumberFactory(company=company, agent=agent, number="+12025550112")
    upgrade = agent_upgrade_license(
        agent=agent, to_license=License.AI_SALES, keep_numbers=False, actor=company_admin
    )
    assert not upgrade.numbers_kept and "No additional number" in upgrade.billing
    assert PhoneNumber.objects.get(number="+12025550112").agent is None


def test_only_ai_voice_users_are_upgraded(agent, company_admin):
    with pytest.raises(ValidationError, match="only Ai Voice users"):
        agent_upgrade_license(
            agent=agent, to_license=License.AI_SALES, keep_numbers=True, actor=company_admin
        )
    assert not LicenseUpgrade.objects.exists()


def test_the_discontinued_license_stays_with_holders_and_is_given_to_nobody_else(company):
    holder, newcomer = AgentFactory(companies=[company]), AgentFactory(companies=[company])
    # a holder from before (set directly, as the migration of old accounts would)
    from agents.centers.models import AgentLine

    AgentLine.objects.create(agent=holder, license=License.AI_VOICE_CC_ADDON)
    agent_set_license(agent=holder, license=License.AI_VOICE_CC_ADDON)  # keeps it
    with pytest.raises(ValidationError, match="discontinued"):
        agent_set_license(agent=newcomer, license=License.AI_VOICE_CC_ADDON)
    with pytest.raises(ValidationError, match="discontinued"):
        license_check_assignable(agent=None, license=License.AI_VOICE_CC_ADDON)
    # and the holder may still join centers
    center_add_member(center=ContactCenterFactory(company=company), agent=holder, actor=None)


def test_access_level_does_not_matter_for_center_roles(company):
    # a company-wide Supervisor is only an agent in a center until made supervisor there
    person = AgentFactory(companies=[company], access_level=AccessLevel.SUPERVISOR)
    center = ContactCenterFactory(company=company)
    center_add_member(center=center, agent=person, actor=None)
    assert not fresh(person).has_perm("agents.coach_center", center)
