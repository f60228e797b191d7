"""Agent-owned campaign end to end: upload a list (its progress page follows the import),
pick the agent column, start, work two records as the agent, see the dashboard move."""

import threading
import time

import pytest
from django.db import connections, transaction

from agents.centers.models import Disposition
from campaigns import contact_lists as campaigns_lists
from campaigns.models import Campaign
from campaigns.services import campaign_start
from campaigns.tasks import run_list_import
from tests.browser.csp import watch_csp
from tests.campaigns.helpers import make_campaign, phone, queue_with
from tests.conftest import browser_login
from tests.factories import AgentFactory, online

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class _Worker:
    """Runs the import task in a thread after commit, as a worker would, a moment later
    (the tests' Celery is eager, which would finish the import before the page is shown)."""

    @staticmethod
    def delay_on_commit(pk):
        def run():
            try:
                time.sleep(1.5)
                run_list_import(pk)
            finally:
                connections.close_all()

        transaction.on_commit(lambda: threading.Thread(target=run).start())


def _status(response, polls: list) -> None:
    if response.url.endswith("/status/"):
        try:
            polls.append(response.json())
        except Exception:  # noqa: BLE001 - the body of the last poll is gone after the reload
            polls.append({"finished": True})


def test_upload_start_work_and_watch_the_dashboard(
    new_page, company, company_admin, supervisor, screenshot, monkeypatch
):
    ava = online(AgentFactory(email="ava@acme.test", full_name="Ava Agent", companies=[company]))
    queue_with(company, ava)
    monkeypatch.setattr(campaigns_lists, "run_list_import", _Worker)
    rows = ["Name,Phone,Agent,Balance"] + [
        f"Person {i},{phone(1000 + i)},ava@acme.test,{i % 97}" for i in range(6000)
    ]
    rows.append("Broken,not a phone,ava@acme.test,1")
    data = ("\n".join(rows) + "\n").encode()

    # an admin uploads the list and watches its import
    admin = new_page()
    violations = watch_csp(admin)
    browser_login(admin, company_admin.email)
    admin.goto("/admin/campaigns/contactlist/add/")
    admin.fill("#id_name", "Spring")
    admin.set_input_files(
        "#id_file", {"name": "spring.csv", "mimeType": "text/csv", "buffer": data}
    )
    admin.click("input[name=_save]")
    polls: list[dict] = []
    admin.on("response", lambda r: _status(r, polls))
    admin.wait_for_selector("#import-progress")
    assert admin.inner_text("#import-state").startswith(("Waiting to start", "Loading"))
    screenshot(admin, "campaign-import-running")
    admin.wait_for_selector("#import-report:not([hidden])", timeout=60_000)
    screenshot(admin, "campaign-import-report")
    # the page followed the unfinished import by itself (and reloaded when it finished)
    assert polls and not polls[0]["finished"]
    assert admin.inner_text("#rows-loaded") == "6000"
    assert admin.inner_text("#rows-rejected") == "1"

    # creates the campaign, picking the agent column, and starts it
    admin.click("#create-campaign")
    admin.fill("#id_name", "Spring calls")
    admin.select_option("#id_queue", label="Collections")
    admin.select_option("#id_agent_column", "Agent")
    admin.select_option("#id_sort_1", "Balance")
    admin.select_option("#id_direction_1", "desc")
    screenshot(admin, "campaign-add")
    admin.click("input[name=_save]")
    admin.wait_for_selector("#result_list")
    admin.check("#result_list input[name=_selected_action]")
    admin.select_option("select[name=action]", "start")
    admin.click("button[name=index]")
    admin.wait_for_selector(".messagelist")
    assert "started" in admin.inner_text(".messagelist")
    campaign = Campaign.objects.get(name="Spring calls")
    assert campaign.status == Campaign.Status.RUNNING

    # the agent works two records: call + disposition, then skip
    agent = new_page()
    violations += watch_csp(agent)
    browser_login(agent, ava.email)
    agent.goto(f"/campaigns/{campaign.pk}/work/")
    agent.click("#next-record")
    agent.wait_for_selector("#record-cells")
    assert "96" in agent.inner_text("#record-cells")  # the highest balance first
    agent.click("#call")
    agent.wait_for_selector("#dial")
    assert agent.get_attribute("#dial", "href").startswith("tel:+1212555")
    agent.select_option("#id_disposition", label="Promise to pay")
    screenshot(agent, "campaign-preview-called")
    agent.click("#save-disposition")
    agent.wait_for_selector("#call")
    agent.click("#skip")
    agent.wait_for_selector("#call")
    screenshot(agent, "campaign-preview-next")

    # the supervisor's dashboard shows the progress
    boss = new_page()
    violations += watch_csp(boss)
    browser_login(boss, supervisor.email)
    boss.goto(f"/campaigns/{campaign.pk}/dashboard/")
    row = boss.locator("tr[data-agent='ava@acme.test']")
    assert row.locator(".handled").inner_text() == "1"
    assert row.locator(".skipped").inner_text() == "1"
    assert boss.inner_text("#total-remaining") == "5998"
    screenshot(boss, "campaign-dashboard")
    boss.goto(f"/campaigns/{campaign.pk}/errors/")
    screenshot(boss, "campaign-errors")
    # the change-owner form: its two fields side by side, and a line no record has says so
    line, owner = (
        boss.locator(f"#change-owner #id_{n}").bounding_box() for n in ("line", "new_value")
    )
    assert abs(line["y"] - owner["y"]) < 2 and owner["x"] > line["x"] + line["width"]
    boss.fill("#id_line", "999999")
    boss.fill("#id_new_value", "ava@acme.test")
    boss.click("#change-owner button[type=submit]")
    boss.wait_for_selector(".messages")
    assert "No record of the list has this line." in boss.inner_text(".messages")
    screenshot(boss, "campaign-errors-change-owner")
    assert violations == []


def _narrow(page) -> None:
    page.set_viewport_size({"width": 390, "height": 844})


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 390


def test_an_error_by_sort_1_keeps_the_new_campaign_form(
    new_page, company, company_admin, screenshot
):
    # given a loaded list and a queue
    ava = online(AgentFactory(email="ava@acme.test", full_name="Ava Agent", companies=[company]))
    queue = queue_with(company, ava)
    seed = make_campaign(company, queue, [("ava@acme.test", "1")], name="Seed")
    admin = new_page()
    violations = watch_csp(admin)
    browser_login(admin, company_admin.email)
    admin.goto(f"/admin/campaigns/campaign/add/?contact_list={seed.contact_list_id}")
    # when the admin picks the agent column as Sort 1 and saves
    admin.fill("#id_name", "Autumn calls")
    admin.select_option("#id_queue", label="Collections")
    admin.select_option("#id_agent_column", "Agent")
    admin.select_option("#id_sort_1", "Agent")
    admin.click("input[name=_save]")
    # then the error stands by Sort 1 and the rest of the form is kept
    admin.wait_for_selector(".field-sort_1 .errorlist")
    assert "cannot be sorted by the agent column" in admin.inner_text(".field-sort_1 .errorlist")
    assert admin.locator(".errorlist").count() == 1  # Sort 1's own, no other
    assert "Please correct the error below." in admin.inner_text(".errornote")
    assert admin.input_value("#id_name") == "Autumn calls"
    assert admin.input_value("#id_queue") == str(queue.pk)
    assert admin.input_value("#id_agent_column") == "Agent"
    assert admin.input_value("#id_contact_list") == str(seed.contact_list_id)
    screenshot(admin, "campaign-add-sort-error")
    _narrow(admin)
    screenshot(admin, "campaign-add-sort-error-390")
    admin.set_viewport_size({"width": 1366, "height": 860})
    # when they pick another column for Sort 1 and save again, then it is created
    admin.select_option("#id_sort_1", "Balance")
    admin.click("input[name=_save]")
    admin.wait_for_selector(".messagelist")
    assert "was added successfully" in admin.inner_text(".messagelist")
    assert Campaign.objects.get(name="Autumn calls").sort == [["Balance", "asc"]]
    assert violations == []


def test_the_preview_page_confirms_a_disposition_and_the_dashboard_pauses_and_recycles(
    new_page, company, supervisor, screenshot
):
    # given Ava's running campaign of three records
    ava = online(AgentFactory(email="ava@acme.test", full_name="Ava Agent", companies=[company]))
    queue = queue_with(company, ava)
    Disposition.objects.create(center=queue, name="Not interested")
    rows = [("ava@acme.test", str(i)) for i in range(3)]
    campaign = make_campaign(company, queue, rows, name="Winter calls")
    campaign_start(campaign=campaign)
    agent = new_page()
    violations = watch_csp(agent)
    browser_login(agent, ava.email)
    agent.goto(f"/campaigns/{campaign.pk}/work/")
    agent.click("#next-record")
    agent.click("#call")
    agent.wait_for_selector("#disposition-form")
    # no disposition is preselected
    assert agent.input_value("#id_disposition") == ""
    screenshot(agent, "campaign-preview-disposition")
    _narrow(agent)
    screenshot(agent, "campaign-preview-disposition-390")
    assert _fits(agent)
    agent.set_viewport_size({"width": 1366, "height": 860})
    # when she saves one, the next record's page confirms it
    agent.select_option("#id_disposition", label="Promise to pay")
    agent.click("#save-disposition")
    agent.wait_for_selector(".messages .success")
    assert agent.inner_text(".messages .success") == (
        "Saved: Promise to pay for Person 0. Next record: Person 1."
    )
    assert "1 of 3 done" in agent.inner_text("#agent-progress")
    screenshot(agent, "campaign-preview-saved")

    # the supervisor pauses, resumes and recycles from the dashboard
    boss = new_page()
    violations += watch_csp(boss)
    browser_login(boss, supervisor.email)
    boss.goto(f"/campaigns/{campaign.pk}/dashboard/")
    boss.click("#pause")
    boss.wait_for_selector(".messages .success")
    assert "Paused" in boss.inner_text(".messages")
    assert boss.inner_text("#campaign-status") == "Paused"
    boss.click("#resume")
    boss.wait_for_selector("#pause")
    boss.check("#recycle-confirm")
    boss.click("#recycle")
    boss.wait_for_selector(".messages .success")
    assert "Recycled" in boss.inner_text(".messages")
    row = boss.locator("tr[data-agent='ava@acme.test']")
    assert row.locator(".remaining").inner_text() == "3"
    assert "1 handled before the recycle" in row.inner_text()
    screenshot(boss, "campaign-dashboard-recycled")
    _narrow(boss)
    screenshot(boss, "campaign-dashboard-recycled-390")
    assert violations == []
