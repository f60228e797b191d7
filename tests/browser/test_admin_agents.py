import pytest

from agents.models import Agent
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_creates_an_agent_and_sees_them_in_the_list(page, company_admin, screenshot):
    # given the company admin logged in
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    screenshot(page, "admin-index")
    # when they add an agent with access level Agent
    page.goto("/admin/agents/agent/add/")
    page.fill("#id_email", "Nina.New@Acme.test")
    page.fill("#id_full_name", "Nina Newcomer")
    page.select_option("#id_access_level", "agent")
    page.fill("#id_password1", "a-long-Secret-77")
    page.fill("#id_password2", "a-long-Secret-77")
    page.click("input[name=_save]")
    # then the change page confirms it and the list shows the new agent
    page.wait_for_selector(".messagelist .success")
    page.goto("/admin/agents/agent/")
    row = page.locator("#result_list tbody tr", has_text="nina.new@acme.test")
    assert row.count() == 1
    assert "Agent" in row.inner_text()
    screenshot(page, "admin-agent-list")
    # and the agent belongs to the admin's company with the Agent group
    nina = Agent.objects.get(email="nina.new@acme.test")
    assert list(nina.companies.all()) == list(company_admin.companies.all())
    assert list(nina.groups.values_list("name", flat=True)) == ["Agent"]


def test_login_page_shows_errors_and_lets_an_agent_in(page, agent, screenshot):
    # when an agent mistypes the password
    browser_login(page, agent.email, "wrong")
    assert page.locator(".form-error").is_visible()
    screenshot(page, "login-error")
    # then with the right one they land in the Lead Center
    browser_login(page, agent.email)
    page.wait_for_url("**/lead-center/")
    assert page.locator("h1").inner_text() == "Lead Center"
    screenshot(page, "lead-center-placeholder")
