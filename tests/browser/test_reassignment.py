import pytest
from django.utils import timezone

from agents.models import Presence
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.models import GroupMember, ReassignmentGroup
from tests.conftest import browser_login
from tests.factories import AgentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_reassign_from_the_contact_page_then_claim_as_another_agent(
    new_page, company, agent, screenshot
):
    ben = AgentFactory(
        companies=[company],
        full_name="Ben Okafor",
        email="ben@acme.test",
        presence=Presence.AVAILABLE,
        last_seen_at=timezone.now(),
    )
    group = ReassignmentGroup.objects.create(
        company=company, name="Closers", method="first_to_claim", claim_window_minutes=10
    )
    GroupMember.objects.create(group=group, agent=ben)
    olivia = contact_create(company=company, actor=None, name="Olivia Nguyen", phone="+12025550142")
    contact_assign_primary_agent(contact=olivia, agent=agent, actor=None)

    # Andy: role → group → confirm
    andy = new_page()
    browser_login(andy, agent.email)
    andy.wait_for_url("**/lead-center/")
    andy.goto(f"/lead-center/contacts/{olivia.pk}/")
    andy.select_option("#reassign-role", "primary")
    andy.select_option("#reassign-group", label="Closers (first to claim)")
    andy.click(".reassign-form button")
    andy.wait_for_selector("text=Re-assign Olivia Nguyen?")
    screenshot(andy, "reassign-confirm")
    andy.click("button[name=confirm]")
    andy.wait_for_selector("#reassign-status")
    assert "Re-Assign in progress" in andy.inner_text(".reassign-box")
    assert "Offered to Ben Okafor" in andy.inner_text(".reassign-box")
    screenshot(andy, "reassign-in-progress")

    # Ben claims it from his offers
    benp = new_page()
    browser_login(benp, ben.email)
    benp.wait_for_url("**/lead-center/")
    benp.click("#tab-offers")
    assert "Olivia Nguyen" in benp.inner_text("#inbox")
    screenshot(benp, "offers-to-claim")
    benp.click("[data-offer] button:has-text('Claim')")
    benp.wait_for_selector("#primary-agent")
    assert "Ben Okafor" in benp.inner_text("#primary-agent")
    timeline = benp.inner_text("#timeline")
    assert "Primary agent changed from Andy Agent to Ben Okafor" in timeline
    assert "claimed by Ben Okafor" in timeline
    assert "Re-assign through group “Closers” (first to claim) started by Andy Agent." in timeline
    screenshot(benp, "reassign-claimed-timeline")
