"""Availability in a browser: an agent adds an out of office with a cover on their own page;
the cover's Lead Center and the workload page say so; at desktop width and at 390 px."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from agents.availability.models import Absence, ItemLoad
from agents.zones import local
from contacts.models import Interaction
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from tests.browser.csp import watch_csp
from tests.conftest import browser_login
from tests.factories import AgentFactory, online

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots_polish")  # noqa: S108 - where this helper's screenshots are looked at
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def shoot(page, name: str) -> None:
    """A full-page screenshot at the page's width, then one at 390 px (no sideways scroll)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    assert page.evaluate(OVERFLOW) <= 0, f"{name} scrolls sideways at 390 px"
    page.set_viewport_size({"width": 1366, "height": 860})


@pytest.fixture
def team(company, supervisor):
    company.working_hours = ""  # always at work: the labels come from the absence alone
    company.save()
    ava = online(AgentFactory(companies=[company], full_name="Ava Patel", email="ava@acme.test"))
    ben = online(AgentFactory(companies=[company], full_name="Ben Okafor", email="ben@acme.test"))
    online(AgentFactory(companies=[company], full_name="Chloe Martin", email="chloe@acme.test"))
    online(supervisor)
    olivia = contact_create(company=company, actor=None, name="Olivia Nguyen", phone="+12025550142")
    contact_assign_primary_agent(contact=olivia, agent=ava, actor=None)
    return ava, ben, olivia


def test_out_of_office_with_a_cover_shows_on_the_lead_center_and_workload(
    new_page, company, supervisor, team
):
    ava, ben, olivia = team
    # given Ava on her availability page
    page = new_page()
    violations = watch_csp(page)
    browser_login(page, ava.email)
    page.wait_for_url("**/lead-center/")
    page.click("#availability-link")
    page.wait_for_url("**/availability/")
    assert "The company's: always (no working hours set)" in page.inner_text("#working-hours")
    # when she adds an out of office from now until in two days, Ben covering
    start = local(timezone.now(), company.time_zone)
    page.fill("#id_starts_at", f"{start:%Y-%m-%dT%H:%M}")
    page.fill("#id_ends_at", f"{start + timedelta(days=2):%Y-%m-%dT%H:%M}")
    page.fill("#id_note", "Conference in Lisbon")
    page.select_option("#id_cover", label="Ben Okafor")
    page.click("#absence-form button[type=submit]")
    page.wait_for_selector(".messages li.success")
    # then it is listed as under way with Ben covering, and she reads where her texts go
    assert "Ben Okafor covers your texts and forms." in page.inner_text(".messages")
    assert page.locator("#absences .chip-now").count() == 1 and "Lisbon" in page.inner_text(
        "#absences"
    )
    assert "your texts and forms go to Ben Okafor" in page.inner_text("#status-now")
    absence = Absence.objects.get(agent=ava)
    assert absence.cover == ben
    shoot(page, "availability-page")
    # and her Lead Center says it in a line above its content, the switch dimmed with why
    page.goto("/lead-center/")
    assert "You are out of office until" in page.inner_text(".page #presence-note")
    assert page.inner_text("#presence-why") == "Out of office"
    assert page.evaluate("document.getElementById('topbar').offsetHeight") < 100
    shoot(page, "lead-center-own-notice")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.locator("#presence-note").is_visible()  # not hidden in the closed menu
    page.set_viewport_size({"width": 1366, "height": 860})
    # a text of Ava's contact reaches Ben marked as covering (routing sets the mark; here set
    # as routing would, so this page test does not depend on the inbound path)
    Interaction.objects.create(
        company=company,
        contact=olivia,
        channel="text",
        body="Is the Elm Street flat still free?",
        routed_to=ben,
        covering_for=ava,
        cover_until=absence.ends_at,
        route_reason="To Ben Okafor, covering for Ava Patel (out of office).",
        response_due_at=timezone.now() + timedelta(minutes=20),
    )
    # and Ben's Lead Center says so
    bens = new_page()
    violations += watch_csp(bens)
    browser_login(bens, ben.email)
    bens.wait_for_url("**/lead-center/")
    mark = bens.inner_text(".item .covering")
    assert mark.startswith("covering for Ava Patel until ")
    bens.fill("input[name=q]", "Olivia")
    bens.keyboard.press("Enter")
    bens.wait_for_url("**q=Olivia**")
    assert "Ava Patel · out of office until" in bens.inner_text("table.list")
    bens.goto("/lead-center/?tab=mine")
    bens.wait_for_selector(".item .covering")
    assert bens.inner_text(".item .due").startswith("reply by ")
    shoot(bens, "lead-center-covering")
    # given Ben at his capacity of one open item
    ben.capacity = 1
    ben.save()
    ItemLoad.objects.create(company=company, agent=ben, total=1, text=1)
    # when the supervisor opens the workload page
    sup = new_page()
    violations += watch_csp(sup)
    browser_login(sup, supervisor.email)
    sup.wait_for_url("**/workload/")
    # then Ben's row is flagged Full with a meter at capacity, Ava's says out of office
    ben_row = sup.locator("tr[data-agent='ben@acme.test']")
    assert "Full" in ben_row.inner_text()
    assert ben_row.locator("meter.load").get_attribute("value") == "1"
    assert "Out of office until" in sup.inner_text("tr[data-agent='ava@acme.test']")
    assert sup.inner_text("#available") == "3 / 4"  # Ava is not
    shoot(sup, "workload-full")
    assert violations == []
