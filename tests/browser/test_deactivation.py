"""Deactivating an agent in the admin, in a real browser: unchecking *Active* leads to the page
that says what they have and asks where it goes; the result message says what moved. Desktop
and 390 px wide (screenshots in /tmp/shots_leaver/)."""

import tempfile
from pathlib import Path

import pytest

from agents.models import Agent
from contacts.models import Contact, Interaction
from tests.conftest import browser_login
from tests.factories import AgentFactory, online
from tests.routing.helpers import book_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(tempfile.gettempdir()) / "shots_leaver"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.parametrize("width", [1366, 390], ids=["desktop", "390px"])
def test_unchecking_active_asks_where_the_work_goes_then_deactivates(
    page, company, company_admin, width
):
    # given Ava owns three contacts and has an open text; Ben works for the company too
    ava = AgentFactory(email="ava@acme.test", full_name="Ava Patel", companies=[company])
    ben = online(AgentFactory(email="ben@acme.test", full_name="Ben Okafor", companies=[company]))
    book = book_of(company, ava, 3)
    Interaction.objects.create(
        company=company, contact=book[0], channel="text", body="Hi", routed_to=ava,
        route_reason="Sent to Ava Patel.",
    )  # fmt: skip
    page.set_viewport_size({"width": width, "height": 860})
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    # when the admin unchecks Active on her page and saves
    page.goto(f"/admin/agents/agent/{ava.pk}/change/")
    page.uncheck("#id_is_active")
    page.click("input[name=_save]")
    # then the deactivation page says what she has, and she is still active
    page.wait_for_url(f"**/admin/agents/agent/{ava.pk}/deactivate/")
    has = page.locator(".leaver-has").inner_text()
    assert "3 contacts they are the primary agent of" in has
    assert "1 open item in their Mine" in has
    assert Agent.objects.get(pk=ava.pk).is_active
    assert fits(page)
    shot(page, f"deactivate-page-{width}")
    # when they submit without saying where her contacts go, they are told
    page.click("input[type=submit].default")
    page.wait_for_selector(".errornote, .errorlist")
    assert "choose a reassignment group or one agent" in page.content()
    shot(page, f"deactivate-refused-{width}")
    # and with Ben chosen, she is deactivated and the message says what moved
    page.select_option(f"#id_{company.pk}-book_to_agent", str(ben.pk))
    page.click("input[type=submit].default")
    page.wait_for_selector(".messagelist .success")
    text = page.locator(".messagelist").inner_text()
    assert "Ava Patel is deactivated" in text
    assert "3 contact(s) handed over to Ben Okafor" in text
    assert "1 open item(s) moved to Active" in text
    assert fits(page)
    shot(page, f"deactivate-done-{width}")
    assert not Agent.objects.get(pk=ava.pk).is_active
    assert Contact.objects.filter(primary_agent=ben).count() == 3
