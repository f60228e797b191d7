"""The workload page in a browser: who is overloaded is plain to see."""

import pytest

from contacts.ownership import contacts_assign_primary_agent_bulk
from tests.conftest import browser_login
from tests.factories import AgentFactory, ContactFactory, online

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_workload_page_flags_the_overloaded_agent(page, company, supervisor, screenshot):
    # given Ann and Bob with 8 contacts each and Cleo with 20 (average 12: Cleo +67%)
    for name, n in (("Ann Lee", 8), ("Bob Stone", 8), ("Cleo Park", 20)):
        person = online(AgentFactory(companies=[company], full_name=name))
        contacts = ContactFactory.create_batch(n, company=company)
        contacts_assign_primary_agent_bulk(
            company=company, contact_ids=[c.pk for c in contacts], agent=person, actor=None
        )
    online(supervisor)
    browser_login(page, supervisor.email)
    page.wait_for_url("**/workload/")
    screenshot(page, "workload-overloaded")
    # then the notice names Cleo, her bar and her row carry the word "Overloaded"
    assert "Cleo Park (+67%)" in page.inner_text("#overload-notice")
    over_bars = page.locator(".bar-row.is-over")
    assert over_bars.count() == 1
    assert "Cleo Park" in over_bars.inner_text() and "Overloaded" in over_bars.inner_text()
    assert page.locator("tr.is-over .badge-over").inner_text() == "Overloaded"
    assert "Overloaded" not in page.inner_text("tr:has-text('Ann Lee')")
    # the average line is drawn at the same place in every bar: the three agents' (the
    # supervisor owns no contacts and is not in the average: no bar)
    xs = page.eval_on_selector_all(".chart-avg", "ls => ls.map(l => l.getBoundingClientRect().x)")
    assert len(xs) == 3 and max(xs) - min(xs) < 1
    # and everyone listed is counted in the header: 4 of 4 (three agents and the supervisor)
    assert page.inner_text("#available") == "4 / 4"
    # the period picker switches the assigned column
    page.click(".periods a:has-text('Last 30 days')")
    page.wait_for_url("**period=30d**")
    assert "ASSIGNED, LAST 30 DAYS" in page.inner_text("#workload thead").upper()
