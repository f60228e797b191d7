import pytest

from agents.centers.models import AgentLine, CenterMembership, Device, License, LicenseUpgrade
from contacts.models import Interaction
from tests.agents.factories_centers import ContactCenterFactory, DeviceFactory, PhoneNumberFactory
from tests.agents.test_centers_pages import member
from tests.browser.csp import watch_csp
from tests.conftest import browser_login
from tests.factories import AgentFactory, ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_upgrades_an_ai_voice_user_into_a_center_and_they_supervise_it(
    new_page, company, company_admin, screenshot
):
    # given a center and an Ai Voice user with a direct number
    center = ContactCenterFactory(company=company, name="Support", routing_type="skills")
    nora = AgentFactory(companies=[company], email="nora@acme.test", full_name="Nora Voice")
    AgentLine.objects.create(agent=nora, license=License.AI_VOICE)
    PhoneNumberFactory(company=company, agent=nora, number="+12025550150")
    admin_page = new_page()
    browser_login(admin_page, company_admin.email)
    admin_page.wait_for_url("**/admin/")

    # when the admin types her email on the center's page and presses Enter
    admin_page.goto(f"/centers/{center.pk}/")
    admin_page.fill("#member-search", "nora@acme")
    admin_page.press("#member-search", "Enter")
    # then the upgrade step asks for the license and shows the billing of kept numbers
    admin_page.wait_for_url(f"**/centers/{center.pk}/upgrade/{nora.pk}/")
    assert "+1 202-555-0150" in admin_page.inner_text("#upgrade")  # readable, not E.164
    assert "1 additional number" in admin_page.inner_text("#upgrade")
    screenshot(admin_page, "centers-upgrade-step")
    admin_page.check("input[name=to_license][value=ai_contact_center]")
    admin_page.check("input[name=numbers][value=keep]")
    admin_page.click("#upgrade button[type=submit]")
    admin_page.wait_for_url(f"**/centers/{center.pk}/")
    assert "upgraded to Ai Contact Center and added to Support" in admin_page.inner_text(
        ".messages"
    )
    row = admin_page.locator("#members tr[data-agent='nora@acme.test']")
    assert row.locator(".role").inner_text() == "Agent"

    # when the admin makes her Supervisor
    row.get_by_role("button", name="Make Supervisor").click()
    admin_page.wait_for_selector(".messages")
    row = admin_page.locator("#members tr[data-agent='nora@acme.test']")
    assert row.locator(".role").inner_text() == "Supervisor"
    screenshot(admin_page, "centers-members")
    upgrade = LicenseUpgrade.objects.get(agent=nora)
    assert upgrade.numbers_kept and upgrade.numbers == ["+12025550150"]
    assert CenterMembership.objects.get(agent=nora).role == "supervisor"

    # then Nora opens the center dashboard and sees its members
    nora_page = new_page()
    browser_login(nora_page, nora.email)
    nora_page.wait_for_url("**/lead-center/")
    nora_page.click("text=Contact centers")
    nora_page.click("#centers >> text=Dashboard")
    nora_page.wait_for_url(f"**/centers/{center.pk}/dashboard/")
    table = nora_page.inner_text("#dashboard")
    assert "Nora Voice" in table and "Supervisor" in table
    assert nora_page.locator("#alerts").is_visible()
    screenshot(nora_page, "centers-dashboard")
    # and her devices page says she keeps her number
    nora_page.click(".topnav >> text=Devices")
    assert "+1 202-555-0150" in nora_page.inner_text("#line")  # readable, not E.164
    screenshot(nora_page, "centers-devices")


def test_the_company_admin_edits_a_center_and_its_dispositions_in_the_admin(
    new_page, company, company_admin, screenshot
):
    # given a center with a disposition
    center = ContactCenterFactory(company=company, name="Support", routing_type="skills")
    center.dispositions.create(name="Promise to pay")
    page = new_page()
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    # when the company's admin opens it in the admin (no company field: it is theirs)
    page.goto(f"/admin/agents/contactcenter/{center.pk}/change/")
    assert page.locator("select[name=company]").count() == 0
    # then a disposition is made inactive, not deleted, and the center is saved
    assert page.locator("input[name='dispositions-0-DELETE']").count() == 0
    page.uncheck("input[name='dispositions-0-is_active']")
    screenshot(page, "centers-admin-change")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/agents/contactcenter/")
    assert not center.dispositions.get().is_active


def test_unticking_ring_this_device_saves_it_and_a_reload_keeps_it(
    new_page, company, agent, screenshot
):
    # given an agent with two ringing devices, on their devices page
    mobile = DeviceFactory(agent=agent, kind=Device.Kind.MOBILE, label="Work mobile")
    DeviceFactory(agent=agent, kind=Device.Kind.LAPTOP, label="Laptop")
    page = new_page()
    violations = watch_csp(page)
    browser_login(page, agent.email)
    page.wait_for_url("**/lead-center/")
    page.goto("/centers/my-devices/")
    row = page.locator(f"#devices tr[data-device='{mobile.pk}']")
    # then, with JavaScript on, no Save button is needed
    assert row.locator("[data-ring-save]").count() == 0

    # when they untick Ring this device on the mobile
    with page.expect_navigation():
        row.locator("input[name=ring]").uncheck()
    # then it is saved, and a reload still shows it unticked
    assert "Work mobile does not ring now" in page.inner_text(".messages")
    page.reload()
    row = page.locator(f"#devices tr[data-device='{mobile.pk}']")
    assert not row.locator("input[name=ring]").is_checked()
    mobile.refresh_from_db()
    assert not mobile.ring
    assert violations == []
    screenshot(page, "centers-devices-unticked")

    # when they tick it again, it rings again
    with page.expect_navigation():
        row.locator("input[name=ring]").check()
    mobile.refresh_from_db()
    assert mobile.ring


def test_without_javascript_the_save_button_saves_ring_this_device(
    _chromium, live_server, company, agent, screenshot
):
    # given a browser with JavaScript off, on the agent's devices page
    mobile = DeviceFactory(agent=agent, kind=Device.Kind.MOBILE, label="Work mobile")
    context = _chromium.new_context(
        viewport={"width": 1366, "height": 860},
        base_url=live_server.url,
        java_script_enabled=False,
    )
    try:
        page = context.new_page()
        browser_login(page, agent.email)
        page.wait_for_url("**/lead-center/")
        page.goto("/centers/my-devices/")
        row = page.locator(f"#devices tr[data-device='{mobile.pk}']")
        save = row.locator("[data-ring-save]")
        # then the Save button shows
        assert save.is_visible()
        # when they untick the box and press Save
        row.locator("input[name=ring]").uncheck()
        save.click()
        page.wait_for_selector(".messages")
        # then it is saved, and the page shows it unticked
        assert "Work mobile does not ring now" in page.inner_text(".messages")
        row = page.locator(f"#devices tr[data-device='{mobile.pk}']")
        assert not row.locator("input[name=ring]").is_checked()
        mobile.refresh_from_db()
        assert not mobile.ring
        screenshot(page, "centers-devices-no-js")
    finally:
        context.close()


def test_add_agent_suggests_people_by_name_as_the_admin_types(
    new_page, company, company_admin, screenshot
):
    # given a center and two people of the company whose names start alike
    center = ContactCenterFactory(company=company, name="Support")
    AgentFactory(companies=[company], email="priya@acme.test", full_name="Priya Patel")
    AgentFactory(companies=[company], email="pria@acme.test", full_name="Pria Quinn")
    page = new_page()
    violations = watch_csp(page)
    browser_login(page, company_admin.email)
    page.wait_for_url("**/admin/")
    page.goto(f"/centers/{center.pk}/")
    # when the admin types part of a name
    page.fill("#member-search", "")
    page.type("#member-search", "Pri", delay=50)
    # then the suggestions list both people by name and email
    # (no wait_for_function: the strict CSP forbids the eval it uses)
    options = page.locator("#member-suggestions option")
    options.nth(1).wait_for(state="attached")
    labels = [options.nth(n).get_attribute("label") for n in range(options.count())]
    assert sorted(labels) == ["Pria Quinn · pria@acme.test", "Priya Patel · priya@acme.test"]
    # and picking one puts the email in the box, and Enter adds that person
    page.fill("#member-search", "priya@acme.test")
    screenshot(page, "centers-add-agent-suggestions")
    page.press("#member-search", "Enter")
    page.wait_for_selector("#members tr[data-agent='priya@acme.test']")
    assert not violations
    assert CenterMembership.objects.filter(center=center, agent__email="priya@acme.test").exists()


def test_the_dashboard_names_the_first_five_a_call_rang_and_counts_the_rest(
    new_page, company, screenshot
):
    # given a supervisor of a center whose last call rang 12 members, and one that rang nobody
    center = ContactCenterFactory(company=company, name="Big Desk")
    sup = AgentFactory(companies=[company], full_name="Sue Supervisor")
    member(center, sup, CenterMembership.Role.SUPERVISOR)
    caller = ContactFactory(company=company, name="Carla Caller", phone="+12025550190")
    Interaction.objects.create(company=company, contact=caller, channel="call", center=center)
    ring = [{"agent": f"m{n}@example.test", "name": f"Member {n}", "order": n} for n in range(12)]
    Interaction.objects.create(
        company=company, contact=caller, channel="call", center=center, ring=ring
    )
    # when she opens the dashboard
    page = new_page()
    browser_login(page, sup.email)
    page.goto(f"/centers/{center.pk}/dashboard/")
    # then the ring activity names five and counts the other seven, one line a call
    activity = page.inner_text("#ring-activity")
    assert "rang Member 0, Member 1, Member 2, Member 3, Member 4 and 7 more" in activity
    assert "Member 5" not in activity and "nobody to ring" in activity
    assert page.inner_text("#recent-rings") == "1"
    page.locator("#dashboard-activity").scroll_into_view_if_needed()
    screenshot(page, "centers-dashboard-ring-activity")
