"""Phone width (390 px): no page scrolls sideways; the top bar's menu button works."""

import pytest

from contacts.ownership import contact_assign_primary_agent, contacts_assign_primary_agent_bulk
from contacts.services import contact_create
from tests.conftest import browser_login
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def phone(page):
    page.set_viewport_size({"width": 390, "height": 844})
    return page


def assert_no_sideways_scroll(page):
    assert page.evaluate(OVERFLOW) <= 0, page.evaluate("document.documentElement.scrollWidth")


def test_workload_fits_a_phone(phone, company, supervisor, screenshot):
    # given a team with long names and contacts
    for n, name in enumerate(
        ["Bartholomew Featherstonehaugh-Smythe", "Ben Okafor", "Chloe Martin"]
    ):
        person = online(AgentFactory(companies=[company], full_name=name))
        contacts_assign_primary_agent_bulk(
            company=company,
            contact_ids=[c.pk for c in ContactFactory.create_batch(n * 4 + 1, company=company)],
            agent=person,
            actor=None,
        )
    browser_login(phone, supervisor.email)
    phone.goto("/workload/")
    phone.wait_for_selector("#workload")
    screenshot(phone, "narrow-workload")
    assert_no_sideways_scroll(phone)
    # the chart's labels are text at their normal size, not shrunk with the chart
    size = phone.eval_on_selector(".bar-label", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 12


def test_lead_center_search_results_fit_a_phone(phone, company, agent, screenshot):
    for n in range(3):
        contact_create(
            company=company,
            actor=None,
            name=f"Olivia Nguyen-Featherstonehaugh {n}",
            phone=f"+1202555014{n}",
            email=f"olivia.nguyen.featherstonehaugh.{n}@a-very-long-company-domain.example",
        )
    browser_login(phone, agent.email)
    phone.wait_for_url("**/lead-center/")
    phone.goto("/lead-center/?q=Olivia")
    phone.wait_for_selector("table.list")
    screenshot(phone, "narrow-lead-center-search")
    assert_no_sideways_scroll(phone)


def test_a_contact_with_a_very_long_email_fits_a_phone(phone, company, agent, screenshot):
    contact = contact_create(
        company=company,
        actor=None,
        name="Olivia",
        phone="+12025550142",
        email="olivia.nguyen.with.a.remarkably.long.address.for.testing@subdomain.example-company.com",
    )
    contact_assign_primary_agent(contact=contact, agent=agent, actor=None)
    browser_login(phone, agent.email)
    phone.wait_for_url("**/lead-center/")
    phone.goto(f"/lead-center/contacts/{contact.pk}/")
    phone.wait_for_selector("#timeline")
    screenshot(phone, "narrow-contact-long-email")
    assert_no_sideways_scroll(phone)


def test_the_menu_button_shows_and_hides_the_navigation(phone, company, supervisor, screenshot):
    browser_login(phone, supervisor.email)
    phone.wait_for_url("**/workload/")
    toggle = phone.locator("#nav-toggle")
    nav = phone.locator(".topnav")
    # closed at first: the button says so and the links are hidden
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not nav.is_visible()
    screenshot(phone, "narrow-menu-closed")
    # open: the links show and can be used
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert nav.is_visible()
    screenshot(phone, "narrow-menu-open")
    assert_no_sideways_scroll(phone)
    phone.click(".topnav a:has-text('Lead Center')")
    phone.wait_for_url("**/lead-center/")
    # and Escape closes it again
    phone.locator("#nav-toggle").click()
    phone.keyboard.press("Escape")
    assert phone.locator("#nav-toggle").get_attribute("aria-expanded") == "false"


def test_on_a_wide_screen_the_navigation_shows_without_a_menu_button(page, supervisor):
    browser_login(page, supervisor.email)
    page.wait_for_url("**/workload/")
    assert page.locator(".topnav").is_visible()
    assert not page.locator("#nav-toggle").is_visible()


# --- Issue 20.12: the center dashboard, Agents & Admins and the Leads Agent Report ----------
def _center_with_long_names(company):
    from agents.centers.models import CenterMembership
    from agents.centers.services import center_add_members, membership_set_role
    from tests.agents.factories_centers import ContactCenterFactory, live_call

    center = ContactCenterFactory(company=company, name="Customer Support Europe")
    people = [
        online(AgentFactory(companies=[company], full_name=name, email=email))
        for name, email in [
            ("Bartholomew Featherstonehaugh-Smythe", "bartholomew.featherstonehaugh@acme.test"),
            ("Ava Patel", "ava.patel.with.a.long.address@acme.test"),
        ]
    ]
    center_add_members(center=center, agents=people, actor=None)
    live_call(center, people[0])  # coaching buttons show beside a live call
    return center, CenterMembership, membership_set_role


def test_the_center_dashboard_fits_a_phone(phone, company, supervisor, screenshot):
    center, CenterMembership, set_role = _center_with_long_names(company)
    from agents.centers.services import center_add_member

    set_role(
        membership=center_add_member(center=center, agent=supervisor, actor=None), role="supervisor"
    )
    browser_login(phone, supervisor.email)
    phone.goto(f"/centers/{center.pk}/dashboard/")
    phone.wait_for_selector("#dashboard")
    screenshot(phone, "narrow-center-dashboard")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    # the coaching buttons are reachable (inside the table's own scroll box)
    assert phone.locator("button:has-text('Listen in')").count() == 1


def test_the_centers_agents_and_admins_fits_a_phone(phone, company, company_admin, screenshot):
    center, _, _ = _center_with_long_names(company)
    browser_login(phone, company_admin.email)
    phone.goto(f"/centers/{center.pk}/")
    phone.wait_for_selector("#members")
    screenshot(phone, "narrow-center-members")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_centers_list_fits_a_phone(phone, company, company_admin, screenshot):
    from tests.agents.factories_centers import ContactCenterFactory

    _center_with_long_names(company)
    ContactCenterFactory(company=company, name="Inbound Sales and Renewals North America")
    browser_login(phone, company_admin.email)
    phone.goto("/centers/")
    phone.wait_for_selector("#centers")
    screenshot(phone, "narrow-centers-list")
    assert_no_sideways_scroll(phone)
    # every center's Dashboard button is in view, whole (the routing column gives way)
    for button in phone.locator("#centers a.button:has-text('Dashboard')").all():
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_the_leads_agent_report_fits_a_phone(phone, company, leads_agent, screenshot):
    from agents.centers.models import ContactCenter, Disposition
    from leads.services import lead_assign
    from tests.browser.test_leads import _customer

    center = ContactCenter.objects.create(company=company, name="Sales floor")
    Disposition.objects.create(center=center, name="Viewing booked", is_sales=True)
    for n, name in enumerate(["Olivia Nguyen-Featherstonehaugh", "Liam Garcia"]):
        lead_assign(
            company=company,
            contact=_customer(company, name, 1001 + n),
            agent=leads_agent,
            actor=None,
        )
    browser_login(phone, leads_agent.email)
    phone.wait_for_url("**/leads/report/")
    phone.wait_for_selector("#leads")
    screenshot(phone, "narrow-leads-report")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
