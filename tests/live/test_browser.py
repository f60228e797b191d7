"""The live pages in a real browser (Chromium) against the real ASGI server and Redis: the
Lead Center and the contact page update on a push, without polling; a page whose server
restarts reconnects and re-renders once; with JavaScript off the pages work on reload."""

import time

import pytest

from contacts.interactions import interaction_take
from contacts.models import Interaction
from contacts.ownership import contact_assign_primary_agent
from contacts.services import contact_create
from routing.inbound import inbound_receive
from routing.models import GroupMember, ReassignmentGroup
from routing.rounds import reassignment_start
from tests.browser.csp import watch_csp
from tests.factories import AgentFactory, online

from .conftest import session_cookie

pytestmark = [pytest.mark.redis, pytest.mark.browser]


@pytest.fixture
def open_page(_chromium, redis_live, asgi_server):
    """``open_page(user, path, width=1280, javascript=True)``: a browser page of the user's
    own (their session), on a fresh ASGI server; returns (page, server)."""
    contexts = []
    server = asgi_server()

    def _open(user, path, *, width=1280, javascript=True):
        context = _chromium.new_context(
            viewport={"width": width, "height": 860},
            base_url=server.url,
            java_script_enabled=javascript,
        )
        context.set_default_timeout(15_000)
        cookie = {"name": "sessionid", "value": session_cookie(user), "url": server.url}
        context.add_cookies([cookie])
        contexts.append(context)
        page = context.new_page()
        page.goto(path)
        return page

    _open.server = server
    yield _open
    for context in contexts:
        context.close()


def until(page, expression: str, timeout: float = 15.0) -> None:
    """Wait until ``expression`` is true in the page (no wait_for_function: the strict CSP
    forbids the eval it uses; evaluate goes through the debugger)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        assert time.monotonic() < deadline, f"still not true after {timeout} s: {expression}"
        time.sleep(0.05)


def connected(page) -> None:
    until(page, "window.SwitchboardLive && window.SwitchboardLive.connected()")


@pytest.fixture
def andy_and_a_text(company):
    """Andy (available) with a text from an unknown number waiting in Active."""
    andy = online(AgentFactory(companies=[company], full_name="Andy Agent"))
    inbound_receive(company=company, channel="text", phone="+12025550999", body="Is Elm St free?")
    return andy, Interaction.objects.get(company=company)


def test_the_lead_center_updates_on_a_push_without_polling(
    open_page, company, andy_and_a_text, screenshot
):
    andy, item = andy_and_a_text
    page = open_page(andy, "/lead-center/?tab=mine")
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    connected(page)
    assert page.text_content("#tab-mine .count") == "0"
    # given the page left open for longer than the old 4-second poll: it asks nothing
    time.sleep(5)
    assert [url for url in fetched if "/lead-center/live/" in url] == []
    # when Andy takes the text (another tab of his, say)
    interaction_take(company=company, interaction_id=item.pk, agent=andy)
    # then Mine shows it, counted in the tab and the title, from one fetch of the fragment
    until(page, "document.querySelector('#tab-mine .count').textContent === '1'")
    assert "Is Elm St free?" in page.text_content("#inbox")
    assert page.title().startswith("(1) ")
    time.sleep(0.5)
    assert len([url for url in fetched if "/lead-center/live/" in url]) == 1
    screenshot(page, "live-lead-center-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "live-lead-center-390")


def test_a_restarted_server_is_met_by_a_reconnect_and_one_re_render(
    open_page, company, andy_and_a_text
):
    andy, item = andy_and_a_text
    page = open_page(andy, "/lead-center/?tab=mine")
    connected(page)
    server = open_page.server
    # when the server goes away, the text is taken meanwhile, and the server comes back
    server.stop()
    until(page, "!window.SwitchboardLive.connected()")
    interaction_take(company=company, interaction_id=item.pk, agent=andy)
    server.start()
    # then the page reconnects and catches up: one re-render shows what it missed
    connected(page)
    until(page, "document.getElementById('lead-center').dataset.refreshes === '1'")
    assert page.text_content("#tab-mine .count") == "1"
    time.sleep(2)
    assert page.get_attribute("#lead-center", "data-refreshes") == "1"


def test_with_javascript_off_the_lead_center_works_on_reload(open_page, company, andy_and_a_text):
    andy, item = andy_and_a_text
    page = open_page(andy, "/lead-center/?tab=active", javascript=False)
    assert "Is Elm St free?" in page.text_content("#inbox")
    interaction_take(company=company, interaction_id=item.pk, agent=andy)
    page.goto("/lead-center/?tab=mine")
    assert page.text_content("#tab-mine .count") == "1"
    assert "Is Elm St free?" in page.text_content("#inbox")


def test_the_contact_page_shows_re_assign_in_progress_and_the_timeline_live(
    open_page, company, screenshot
):
    andy = online(AgentFactory(companies=[company], full_name="Andy Agent"))
    ben = online(AgentFactory(companies=[company], full_name="Ben Okafor"))
    group = ReassignmentGroup.objects.create(
        company=company, name="Closers", method="first_to_claim"
    )
    GroupMember.objects.create(group=group, agent=ben)
    olivia = contact_create(company=company, actor=None, name="Olivia Nguyen", phone="+12025550142")
    contact_assign_primary_agent(contact=olivia, agent=andy, actor=None)
    page = open_page(andy, f"/lead-center/contacts/{olivia.pk}/")
    connected(page)
    assert page.query_selector("#reassign-status") is None
    # when someone sends Olivia through the Closers group
    reassignment_start(contact=olivia, group=group, actor=None)
    # then the page shows Re-Assign in progress and the timeline's new row, without a reload
    page.wait_for_selector("#reassign-status")
    assert "Re-assign through" in page.text_content("#contact-timeline")
    screenshot(page, "live-contact-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "live-contact-390")


def test_a_text_from_the_webhook_appears_in_mine_and_its_button_still_works(
    open_page, company, screenshot
):
    # given Andy's Lead Center open on Mine, empty, and one of his contacts
    andy = online(AgentFactory(companies=[company], full_name="Andy Agent"))
    olivia = contact_create(company=company, actor=None, name="Olivia Nguyen", phone="+12025550142")
    contact_assign_primary_agent(contact=olivia, agent=andy, actor=None)
    page = open_page(andy, "/lead-center/?tab=mine")
    violations = watch_csp(page)
    connected(page)
    assert "Your inbox is clear." in page.inner_text("#inbox")
    assert page.inner_text("#tab-mine .count") == "0"
    page.evaluate("window.__notReloaded = true")
    # when Olivia texts (the service the webhook calls; it publishes after its commit)
    inbound_receive(company=company, channel="text", phone=olivia.phone, body="Is Elm Street free?")
    # then it is in Mine at once, counted in the tab and the title, with no reload
    until(page, "document.querySelector('#inbox').textContent.includes('Is Elm Street free?')")
    assert page.inner_text("#tab-mine .count") == "1"
    assert page.title().startswith("(1) Lead Center")
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "live-lead-center-webhook-text")
    # and its button still works: the form goes back to the page, not to the fragment
    page.click("[data-interaction] button:has-text('Mark handled')")
    page.wait_for_selector(".messages .success")
    assert page.url.endswith("/lead-center/?tab=mine")
    assert "Your inbox is clear." in page.inner_text("#inbox")
    assert violations == []


def test_a_page_left_open_after_a_company_switch_elsewhere_says_so_and_keeps_its_items(
    open_page, company, other_company, screenshot
):
    from importlib import import_module

    from django.conf import settings

    from agents.middleware import SESSION_KEY

    # given Andy, in two companies, with Acme's Lead Center open on Acme's text in Active
    andy = online(AgentFactory(companies=[company, other_company], full_name="Andy Agent"))
    inbound_receive(company=company, channel="text", phone="+12025550999", body="Is Elm St free?")
    item = Interaction.objects.get(company=company)
    page = open_page(andy, "/lead-center/?tab=mine")
    connected(page)
    # when his session moves to Globex (another tab) and then something of Acme's changes
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    session[SESSION_KEY] = other_company.pk
    session.save()
    interaction_take(company=company, interaction_id=item.pk, agent=andy)
    # then the open page says so instead of showing Globex's items under Acme's name
    until(page, "document.getElementById('company-changed') !== null")
    notice = page.text_content("#company-changed")
    assert "You switched to Globex in another tab: reload this page to work there." in notice
    assert page.text_content("#tab-mine .count") == "0"  # as it was: Acme's, not refetched
    screenshot(page, "live-company-switched")
    # and a reload shows Globex's Lead Center
    page.click("#company-changed a")
    page.wait_for_selector("#inbox")
    assert page.locator("#company-changed").count() == 0
