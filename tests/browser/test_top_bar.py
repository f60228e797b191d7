"""Laptop width (1366 px, the commonest): the top bar is one row for agents and supervisors,
with the demo's names; where it cannot be (an admin's two more links, a narrower window), the
links stay on their row and the rest (presence, company, name, password, log out) wraps whole
to the next, never one link alone."""

import pytest

from agents.models import Company
from tests.conftest import browser_login
from tests.factories import AgentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


WHO = ".topbar .who > *"


@pytest.mark.parametrize("level", ["admin", "supervisor", "agent"])
def test_the_top_bar_at_laptop_width(page, company, level, screenshot):
    # given a company and a person with names as long as the demo's
    Company.objects.filter(pk=company.pk).update(name="Northwind Realty")
    person = AgentFactory(
        companies=[company],
        access_level=level,
        is_staff=level == "admin",
        email=f"{level}@northwind.test",
        full_name="Sam Supervisor",
    )
    # when they open the Lead Center (an admin lands in the admin site)
    browser_login(page, person.email)
    page.goto("/lead-center/")
    # then every link is on one line, and so is the rest (a row is about 44 px)
    height = page.eval_on_selector(".topbar", "e => e.getBoundingClientRect().height")
    tops = page.eval_on_selector_all(
        ".topnav a", "ls => ls.map(l => l.getBoundingClientRect().top)"
    )
    who = page.eval_on_selector_all(WHO, "ls => ls.map(l => l.getBoundingClientRect().top)")
    screenshot(page, f"top-bar-{level}")
    assert max(tops) - min(tops) < 2, tops
    assert max(who) - min(who) < 6, who
    # one row but for the admin, whose two more links send the rest to a second
    assert (height < 60) == (level != "admin"), height


def test_a_narrower_window_wraps_the_rest_of_the_bar_not_a_link(new_page, company, company_admin):
    page = new_page()
    page.set_viewport_size({"width": 1100, "height": 800})
    browser_login(page, company_admin.email)
    page.goto("/lead-center/")
    tops = page.eval_on_selector_all(
        ".topnav a", "ls => ls.map(l => l.getBoundingClientRect().top)"
    )
    assert max(tops) - min(tops) < 2, tops
    who = page.eval_on_selector_all(WHO, "ls => ls.map(l => l.getBoundingClientRect().top)")
    assert max(who) - min(who) < 6, who
