"""The primary-agent journeys in a real browser."""

import json
import re
import urllib.request

import pytest
from django.core import mail

from agents.models import Presence
from agents.services import company_set_webhook_token
from contacts.models import Contact
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from tests.conftest import browser_login
from tests.factories import AgentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN = "sbw_browser_test"


@pytest.fixture
def ben(company):
    return AgentFactory(
        companies=[company],
        full_name="Ben Okafor",
        email="ben@acme.test",
        presence=Presence.AVAILABLE,
    )


@pytest.fixture
def olivia(company):
    return contact_create(company=company, actor=None, name="Olivia Nguyen", phone="+12025550142")


def send_text(live_server, company, body: str, phone: str = "+12025550142") -> dict:
    company_set_webhook_token(company=company, token=TOKEN)
    request = urllib.request.Request(
        live_server.url + "/api/inbound/",
        data=json.dumps({"channel": "text", "phone": phone, "body": body}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - our live server
        assert response.status == 201
        return json.loads(response.read())


def test_admin_sets_a_primary_agent_and_the_agent_gets_the_email_with_the_link(
    new_page, live_server, settings, company_admin, agent, olivia, screenshot
):
    settings.SITE_URL = live_server.url
    admin = new_page()
    browser_login(admin, company_admin.email)
    admin.wait_for_url("**/admin/")
    # when the admin picks Andy in the Primary agent autocomplete and saves
    admin.goto(f"/admin/contacts/contact/{olivia.pk}/change/")
    admin.click(".field-primary_agent .select2-selection")
    admin.fill(".select2-search__field", "Andy")
    admin.click(".select2-results__option:has-text('Andy Agent')")
    screenshot(admin, "admin-contact-primary-agent")
    admin.click("input[name=_save]")
    admin.wait_for_selector(".messagelist .success")
    screenshot(admin, "admin-contact-list-with-primary")
    # then Andy has an email with the contact's name, phone and link
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["agent@acme.test"]
    assert "Olivia Nguyen" in message.body and "+1 202-555-0142" in message.body
    link = re.search(r"(http://\S+/lead-center/contacts/\d+/)", message.body).group(1)
    # and the link opens the contact's page for him, showing the timeline row
    andy = new_page()
    browser_login(andy, agent.email)
    andy.wait_for_url("**/lead-center/")
    andy.goto(link)
    assert "Andy Agent" in andy.inner_text("#primary-agent")
    assert "Primary agent set to Andy Agent by Ada Admin — set in the admin." in andy.inner_text(
        "#timeline"
    )
    screenshot(andy, "lead-center-contact-page")


def test_a_text_reaches_its_primary_agent_only_and_goes_to_active_when_they_are_away(
    new_page, live_server, company, agent, ben, olivia, screenshot
):
    contact_assign_primary_agent(contact=olivia, agent=agent, actor=None)
    andy, benp = new_page(), new_page()
    browser_login(andy, agent.email)
    browser_login(benp, ben.email)
    andy.wait_for_url("**/lead-center/")
    benp.wait_for_url("**/lead-center/")
    # a text from Olivia while Andy is available goes to Andy
    answer = send_text(live_server, company, "Is the Elm Street flat still free?")
    assert answer["routed_to"] == "agent@acme.test"
    andy.goto("/lead-center/?tab=mine")
    assert "Is the Elm Street flat still free?" in andy.inner_text("#inbox")
    screenshot(andy, "lead-center-mine")
    benp.goto("/lead-center/?tab=active")
    assert "Elm Street" not in benp.inner_text("#inbox")
    benp.goto("/lead-center/?tab=mine")
    assert "Elm Street" not in benp.inner_text("#inbox")
    # Andy sets himself Away from the top bar
    andy.select_option("#presence-select", "away")
    andy.wait_for_selector(".messages .success")
    assert "You are now Away." in andy.inner_text(".messages")
    # the next text shows in Active for Ben, who takes it
    answer = send_text(live_server, company, "Can we view it on Saturday?")
    assert answer["pool"] == "active"
    benp.goto("/lead-center/?tab=active")
    item = benp.locator(".item", has_text="Can we view it on Saturday?")
    assert "Andy Agent, is away" in item.inner_text()
    screenshot(benp, "lead-center-active")
    item.locator("button", has_text="Take").click()
    benp.wait_for_selector(".messages .success")
    assert "Can we view it on Saturday?" in benp.inner_text("#inbox")
    screenshot(benp, "lead-center-taken")


def test_agent_adds_a_contact_with_a_primary_agent_and_sees_errors_next_to_fields(
    page, agent, ben, olivia, screenshot
):
    browser_login(page, agent.email)
    page.wait_for_url("**/lead-center/")
    page.click("text=Add contact")
    page.fill("#id_name", "Nora New")
    page.fill("#id_phone", "(202) 555-0142")
    page.fill("#id_email", "not-an-email")
    page.select_option("#id_primary_agent", label="Ben Okafor (ben@acme.test)")
    page.click("form.form button[type=submit]")
    assert "already belongs to Olivia Nguyen" in page.inner_text(".field.has-error")
    screenshot(page, "lead-center-contact-form-errors")
    page.fill("#id_phone", "(202) 555-0177")
    page.fill("#id_email", "nora@example.com")
    page.click("form.form button[type=submit]")
    page.wait_for_selector("#primary-agent")
    assert "Ben Okafor" in page.inner_text("#primary-agent")
    assert Contact.objects.get(name="Nora New").primary_agent == ben
    # and searching the inbox by number finds her
    page.goto("/lead-center/")
    page.fill("#inbox-search", "202 555 0177")
    page.press("#inbox-search", "Enter")
    page.wait_for_url("**q=202*")
    assert "Nora New" in page.inner_text(".lc-main")
    screenshot(page, "lead-center-search")


def test_supervisor_opens_the_workload_page(page, supervisor, company, agent, ben, screenshot):
    for n in range(6):
        c = contact_create(company=company, actor=None, phone=f"+1202555{n + 200:04d}")
        contact_assign_primary_agent(contact=c, agent=agent if n < 4 else ben, actor=None)
    browser_login(page, supervisor.email)
    page.wait_for_url("**/workload/")
    assert page.inner_text("#total-primary") == "6"
    assert page.inner_text("#spread") == "2"  # Andy 4, Ben 2
    # Andy's and Ben's bars (the supervisor, at 0 and not in the average, has none)
    assert page.locator("svg rect.chart-bar").count() == 2
    page.click("text=Primary contacts")
    assert page.locator("#workload tbody tr").first.get_attribute("data-agent") == "agent@acme.test"
    screenshot(page, "workload")
