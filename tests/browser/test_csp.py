"""Every page we use works under the Content-Security-Policy: no violation is reported."""

import pytest

from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.inbound import inbound_receive
from routing.models import ReassignmentGroup
from tests.browser.csp import watch_csp
from tests.conftest import browser_login
from tests.factories import AgentFactory, online

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def olivia(company, agent):
    contact = contact_create(
        company=company, actor=None, name="Olivia Nguyen", phone="+12025550142"
    )
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    return contact


def test_the_pages_send_the_policy(client):
    policy = client.get("/login/").headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ):
        assert directive in policy


def test_agent_pages_report_no_csp_violation(page, company, agent, olivia, screenshot):
    # given an agent with a text in Mine, watching for CSP violations from the login page on
    online(agent)
    inbound_receive(company=company, channel="text", phone=olivia.phone, body="Still free?")
    violations = watch_csp(page)
    page.goto("/login/")
    page.wait_for_selector("#id_username")
    # when they log in and walk the Lead Center, a contact page and the contact form
    browser_login(page, agent.email)
    page.wait_for_url("**/lead-center/")
    assert "Still free?" in page.inner_text("#inbox")
    # the presence picker still applies at once (its script is a file now)
    page.select_option("#presence-select", "away")
    page.wait_for_selector(".messages .success")
    assert "You are now Away" in page.inner_text(".messages")
    page.goto(f"/lead-center/contacts/{olivia.pk}/")
    page.wait_for_selector("#timeline")
    page.goto(f"/lead-center/contacts/{olivia.pk}/edit/")
    page.wait_for_selector("form.form")
    page.goto("/lead-center/contacts/new/")
    page.click("form.form button[type=submit]")  # errors shown next to the fields
    page.wait_for_selector(".field-error")
    screenshot(page, "csp-contact-form-errors")
    # then no page reported a violation
    assert violations == []


def test_workload_and_admin_pages_report_no_csp_violation(
    page, company, company_admin, agent, olivia, screenshot
):
    AgentFactory(companies=[company], full_name="Ben Okafor", email="ben@acme.test")
    violations = watch_csp(page)
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    # the workload page
    page.goto("/workload/")
    page.wait_for_selector("#workload")
    # the admin's contact list, its search and the action page with its Cancel
    page.goto("/admin/contacts/contact/")
    page.wait_for_selector("#result_list")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "assign_primary_agent")
    page.click("button[name=index]")
    page.wait_for_selector("input[value='Assign']")
    page.click("a.cancel-link")
    page.wait_for_selector("#result_list")
    # the change page: the primary agent autocomplete (select2) opens, searches and picks
    page.goto(f"/admin/contacts/contact/{olivia.pk}/change/")
    page.click(".field-primary_agent .select2-selection")
    page.fill(".select2-search__field", "Ben")
    page.click(".select2-results__option:has-text('Ben Okafor')")
    screenshot(page, "csp-admin-contact-change")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    olivia.refresh_from_db()
    assert olivia.primary_agent.full_name == "Ben Okafor"
    # and the agents list (presence dots), a group's fairness page and the token page
    page.goto("/admin/agents/agent/")
    page.wait_for_selector("#result_list")
    group = ReassignmentGroup.objects.create(company=company, name="Team", method="round_robin")
    page.goto(f"/admin/routing/reassignmentgroup/{group.pk}/fairness/")
    page.wait_for_selector("#fairness")
    page.goto(f"/admin/agents/company/{company.pk}/rotate-token/")
    page.wait_for_selector("input[value='Rotate the token']")
    assert violations == []
