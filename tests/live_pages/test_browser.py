"""The three pages in a real browser on the ASGI site: a change the server makes (a service
call here, in the test) shows on the open page without a reload; screenshots at 1280 and
390 px after the update (var/screenshots/live-*.png)."""

import pytest

from agents.centers.models import CenterMembership
from agents.centers.services import center_add_member, membership_set_role
from campaigns.services import campaign_start
from campaigns.work import entry_next, entry_skip
from contacts.interactions import interaction_take
from contacts.selectors import workload as workload_rows
from routing.inbound import inbound_receive
from tests.agents.factories_centers import ContactCenterFactory
from tests.campaigns.helpers import make_campaign, queue_with
from tests.conftest import browser_login
from tests.factories import AgentFactory, online
from tests.live_pages.conftest import not_reloaded, wait_live

pytestmark = [pytest.mark.browser, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _shots(page, screenshot, name: str) -> None:
    screenshot(page, f"live-{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, f"live-{name}-390")
    page.set_viewport_size({"width": 1280, "height": 860})


def test_the_center_dashboard_shows_a_call_answered_without_a_reload(
    live_page, company, screenshot
):
    # given a center with a supervisor and Ana, available, and a call waiting in its queue
    center = ContactCenterFactory(company=company, name="Support")
    boss = online(AgentFactory(companies=[company], email="boss@acme.test", full_name="Bo Boss"))
    membership_set_role(
        membership=center_add_member(center=center, agent=boss, actor=None),
        role=CenterMembership.Role.SUPERVISOR,
    )
    ana = online(AgentFactory(companies=[company], email="ana@acme.test", full_name="Ana Reyes"))
    center_add_member(center=center, agent=ana, actor=None)
    call, _ = inbound_receive(
        company=company, channel="call", phone="+12125550101", name="Carl Caller",
        contact_center="Support",
    )  # fmt: skip
    page = live_page()
    browser_login(page, boss.email)
    page.goto(f"/centers/{center.pk}/dashboard/")
    assert page.inner_text("#waiting") == "1"
    wait_live(page)
    # when Ana takes the call (the server's change, not the page's)
    interaction_take(company=company, interaction_id=call.pk, agent=ana)
    # then the open dashboard shows it answered and the queue empty, without a reload
    page.wait_for_function("() => document.getElementById('waiting').textContent.trim() === '0'")
    assert "answered by Ana Reyes" in page.inner_text("#ring-activity")
    assert page.inner_text("#center-queue") == "Nothing waiting."
    assert not_reloaded(page)
    # and the hint to reload is gone while the page is live
    assert not page.is_visible("#updated-at .live-hint")
    _shots(page, screenshot, "center-dashboard")


def test_the_campaign_dashboard_counts_a_skip_without_a_reload(live_page, company, screenshot):
    # given a running campaign of five records for Ava, and its dashboard open
    supervisor = online(
        AgentFactory(access_level="supervisor", companies=[company], email="sup@acme.test")
    )
    ava = online(AgentFactory(companies=[company], email="ava@acme.test", full_name="Ava Patel"))
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", str(i)) for i in range(5)])
    campaign_start(campaign=campaign)
    page = live_page()
    browser_login(page, supervisor.email)
    page.goto(f"/campaigns/{campaign.pk}/dashboard/")
    assert page.inner_text("#total-skipped") == "0"
    wait_live(page)
    # when Ava skips her first record
    entry_skip(entry_id=entry_next(campaign=campaign, agent=ava).pk, agent=ava)
    # then the totals and her row say so, without a reload
    page.wait_for_function("() => document.getElementById('total-skipped').textContent === '1'")
    row = page.locator("tr[data-agent='ava@acme.test']")
    assert row.locator(".skipped").inner_text() == "1"
    assert row.locator(".remaining").inner_text() == "4"
    assert page.inner_text("#total-done") == "1"
    assert not_reloaded(page)
    _shots(page, screenshot, "campaign-dashboard")


def test_the_workload_page_shows_new_campaign_records_without_a_reload(
    live_page, company, screenshot
):
    # given Ava with no campaign records yet, and the workload page open (sorted by name)
    supervisor = online(
        AgentFactory(access_level="supervisor", companies=[company], email="sup@acme.test")
    )
    ava = online(AgentFactory(companies=[company], email="ava@acme.test", full_name="Ava Patel"))
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", str(i)) for i in range(5)])
    page = live_page()
    browser_login(page, supervisor.email)
    page.goto("/workload/?sort=-name")
    cell = "tr[data-agent='ava@acme.test'] .campaign-pending"
    assert page.inner_text(cell) == "0"
    wait_live(page)
    # when the campaign starts (five records to Ava's queue)
    campaign_start(campaign=campaign)
    # then her row counts them, in the page's own sort, without a reload
    page.wait_for_function(
        "() => document.querySelector(\"tr[data-agent='ava@acme.test'] .campaign-pending\")"
        ".textContent === '5'"
    )
    assert not_reloaded(page)
    emails = page.eval_on_selector_all("#workload tbody tr", "rs => rs.map(r => r.dataset.agent)")
    # (by name, descending, as the database orders them: the page's own sort)
    assert emails == [row.agent.email for row in workload_rows(company=company, sort="-name")]
    _shots(page, screenshot, "workload")


def test_with_javascript_off_the_dashboard_is_right_on_reload(live_page, company):
    # given the campaign dashboard open in a browser without JavaScript (no socket at all)
    supervisor = online(
        AgentFactory(access_level="supervisor", companies=[company], email="sup@acme.test")
    )
    ava = AgentFactory(companies=[company], email="ava@acme.test", full_name="Ava Patel")
    campaign = make_campaign(company, queue_with(company, ava), [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    page = live_page(javascript=False)
    browser_login(page, supervisor.email)
    page.goto(f"/campaigns/{campaign.pk}/dashboard/")
    assert page.inner_text("#total-skipped") == "0"
    # when Ava skips her record, then a reload shows it (and the page said to reload)
    entry_skip(entry_id=entry_next(campaign=campaign, agent=ava).pk, agent=ava)
    page.reload()
    assert page.inner_text("#total-skipped") == "1"


# A socket that never opens: what a proxy that refuses WebSocket upgrades looks like.
REFUSED_SOCKET = """
window.WebSocket = function () {
  const socket = { readyState: 3, send() {}, close() {} };
  setTimeout(() => {
    if (socket.onerror) socket.onerror(new Event("error"));
    if (socket.onclose) socket.onclose({ code: 1006, reason: "" });
  }, 20);
  return socket;
};
"""


def _center_with_supervisor(company):
    center = ContactCenterFactory(company=company, name="Support")
    boss = online(AgentFactory(companies=[company], email="boss@acme.test"))
    membership_set_role(
        membership=center_add_member(center=center, agent=boss, actor=None),
        role=CenterMembership.Role.SUPERVISOR,
    )
    return center, boss


def test_the_reload_hint_waits_for_the_socket_and_shows_when_it_is_refused(live_page, company):
    # given a center dashboard whose socket the network refuses
    center, boss = _center_with_supervisor(company)
    page = live_page()
    page.add_init_script(REFUSED_SOCKET)
    browser_login(page, boss.email)
    # when the page opens, the hint does not flash while the socket would be connecting
    # (it is served hidden)
    page.goto(f"/centers/{center.pk}/dashboard/")
    assert page.eval_on_selector("#updated-at .live-hint", "e => e.hidden")
    # then, the socket refused, the page says to reload for the latest
    page.locator("#updated-at .live-hint").wait_for(state="visible", timeout=6_000)
    assert "reload for the latest" in page.inner_text("#updated-at")


def test_without_javascript_the_dashboard_says_to_reload(live_page, company):
    center, boss = _center_with_supervisor(company)
    page = live_page(javascript=False)
    browser_login(page, boss.email)
    page.goto(f"/centers/{center.pk}/dashboard/")
    assert "reload for the latest" in page.inner_text("#updated-at")
