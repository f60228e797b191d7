"""The open Lead Center shows new items by itself, without a reload."""

import pytest

from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.inbound import inbound_receive
from tests.browser.csp import watch_csp
from tests.conftest import browser_login
from tests.factories import online

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_text_appears_in_mine_and_the_counts_update_without_a_reload(
    page, company, agent, screenshot
):
    # given Andy's Lead Center open on Mine, empty, and one of his contacts
    online(agent)
    olivia = contact_create(company=company, actor=None, name="Olivia Nguyen", phone="+12025550142")
    contact_assign_primary_agent(contact=olivia, agent=agent, actor=None)
    violations = watch_csp(page)
    browser_login(page, agent.email)
    page.wait_for_url("**/lead-center/")
    assert "Your inbox is clear." in page.inner_text("#inbox")
    assert page.inner_text("#tab-mine .count") == "0"
    assert page.title().startswith("Lead Center")
    page.evaluate("window.__notReloaded = true")
    # when Olivia texts (the same service the webhook calls)
    inbound_receive(company=company, channel="text", phone=olivia.phone, body="Is Elm Street free?")
    # then within a few seconds it is in Mine, the tab counts it and so does the title
    page.wait_for_selector("#inbox :text('Is Elm Street free?')", timeout=10_000)
    assert page.inner_text("#tab-mine .count") == "1"
    assert page.title().startswith("(1) Lead Center")
    assert page.evaluate("window.__notReloaded") is True  # no reload happened
    screenshot(page, "lead-center-live-update")
    # and its button still works: the form goes back to the page, not to the fragment
    page.click("[data-interaction] button:has-text('Mark handled')")
    page.wait_for_selector(".messages .success")
    assert page.url.endswith("/lead-center/?tab=mine")
    assert "Your inbox is clear." in page.inner_text("#inbox")
    assert violations == []
