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
