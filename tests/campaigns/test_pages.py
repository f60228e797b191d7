import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents.centers.models import Disposition
from campaigns.models import Campaign, ContactList, Entry, ListImport
from campaigns.services import campaign_pause, campaign_start
from campaigns.work import entry_next
from contacts.models import TimelineEntry
from tests.campaigns.helpers import at_once, make_campaign, phone, queue_with
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ava(company):
    return AgentFactory(email="ava@acme.test", full_name="Ava", companies=[company])


def test_admin_upload_imports_the_list_and_reports_rejected_rows(
    login, company_admin, django_capture_on_commit_callbacks
):
    client = login(company_admin)
    data = f"Name,Phone,Agent\nAnn,{phone(1)},a@acme.test\n=HYPERLINK(1),bad,x\n".encode()
    # when an admin uploads a list
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:campaigns_contactlist_add"),
            {"name": "Spring", "file": SimpleUploadedFile("spring.csv", data, "text/csv")},
        )
    # then the import runs (eagerly here) and its page shows the report
    list_import = ListImport.objects.select_related("contact_list").get()
    assert response.status_code == 302 and response.url == list_import.get_absolute_url()
    page = client.get(response.url)
    assert b"rows loaded" in page.content and list_import.contact_list.rows == 1
    status = client.get(
        reverse(
            "admin:campaigns_contactlist_import_status",
            args=[list_import.contact_list_id, list_import.pk],
        )
    ).json()
    assert status["finished"] and status["rows_rejected"] == 1
    # and the rejected rows download escapes formulas
    csv = b"".join(
        client.get(
            reverse(
                "admin:campaigns_contactlist_rejected",
                args=[list_import.contact_list_id, list_import.pk],
            )
        ).streaming_content
    ).decode()
    assert "'=HYPERLINK(1),bad,x" in csv
    # every cell quoted (a semicolon in a raw line must not split it where Excel splits on it)
    assert all(line.startswith('"') and line.endswith('"') for line in csv.splitlines())


def test_another_companys_import_is_not_found(login, other_admin, company):
    contact_list = ContactList.objects.create(company=company, name="Mine")
    imported = ListImport.objects.create(contact_list=contact_list, file_path="/nonexistent")
    client = login(other_admin)
    url = reverse("admin:campaigns_contactlist_import_status", args=[contact_list.pk, imported.pk])
    assert client.get(url).status_code == 404


def test_the_campaign_admin_makes_queue_list_and_agent_column_read_only(
    login, company_admin, company, ava
):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    client = login(company_admin)
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b'name="queue"' not in page.content and b'name="agent_column"' not in page.content
    # a forged post cannot change them either
    other = queue_with(company, ava, name="Other")
    client.post(url, {"name": "New name", "queue": other.pk, "agent_column": "Name"})
    campaign.refresh_from_db()
    assert (campaign.name, campaign.queue_id, campaign.agent_column) == (
        "New name",
        queue.pk,
        "Agent",
    )


def test_the_admin_creates_a_campaign_and_refuses_sorting_by_the_agent_column(
    login, company_admin, company, ava
):
    queue = queue_with(company, ava)
    seed = make_campaign(company, queue, [("ava@acme.test", "1")], name="Seed")
    client = login(company_admin)
    url = reverse("admin:campaigns_campaign_add") + f"?contact_list={seed.contact_list_id}"
    form = {"name": "New", "queue": queue.pk, "contact_list": seed.contact_list_id,
            "agent_column": "Agent", "sort_1": "Agent", "direction_1": "asc"}  # fmt: skip
    refused = client.post(url, form, follow=True)
    assert b"cannot be sorted by the agent column" in refused.content
    assert not Campaign.objects.filter(name="New").exists()
    client.post(url, {**form, "sort_1": "Balance", "direction_1": "desc"})
    assert Campaign.objects.get(name="New").sort == [["Balance", "desc"]]


def test_agent_works_a_record_through_the_pages(login, company, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2")])
    campaign_start(campaign=campaign)
    client = login(ava)
    # next record → the preview page with its cells
    response = client.post(reverse("campaigns:work", args=[campaign.pk]))
    page = client.get(response.url)
    assert b"Person 0" in page.content and b'id="call"' in page.content
    # call → the tel: link and the dispositions
    page = client.post(response.url, {"action": "call"}, follow=True)
    assert b'href="tel:+12125550100"' in page.content and b"Promise to pay" in page.content
    disposition = Disposition.objects.get(center=queue, name="Promise to pay")
    nxt = client.post(response.url, {"action": "disposition", "disposition": disposition.pk})
    assert b"Person 1" in client.get(nxt.url).content
    assert TimelineEntry.objects.filter(kind=TimelineEntry.Kind.CAMPAIGN_DISPOSITIONED).count() == 1


def test_an_agent_cannot_open_another_agents_record(login, company, ava):
    ben = AgentFactory(email="ben@acme.test", companies=[company])
    queue = queue_with(company, ava, ben)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    entry = entry_next(campaign=campaign, agent=ava)
    url = reverse("campaigns:entry", args=[campaign.pk, entry.pk])
    assert login(ben).get(url).status_code == 404
    assert login(ben).post(url, {"action": "skip"}).status_code == 404


def test_dashboard_and_errors_for_supervisors_only(login, company, supervisor, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), ("bad@", "2")])
    campaign_start(campaign=campaign)
    client = login(supervisor)
    dashboard = client.get(reverse("campaigns:dashboard", args=[campaign.pk]))
    assert b'data-agent="ava@acme.test"' in dashboard.content
    errors = client.get(reverse("campaigns:errors", args=[campaign.pk]))
    assert b"Invalid email address" in errors.content
    assert login(ava).get(reverse("campaigns:dashboard", args=[campaign.pk])).status_code == 403


def test_workload_shows_pending_campaign_records(login, company, supervisor, ava):
    queue = queue_with(company, ava)
    campaign_start(campaign=make_campaign(company, queue, [("ava@acme.test", "1")] * 3))
    page = login(supervisor).get(reverse("workload"))
    assert b'<td class="num campaign-pending">3</td>' in page.content


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_sessions_of_one_agent_get_eight_different_records(company, ava):
    # given 20 records in Ava's queue
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", str(i)) for i in range(20)])
    campaign_start(campaign=campaign)
    got: list = []

    def ask():
        entry = entry_next(campaign=Campaign.objects.get(pk=campaign.pk), agent=ava)
        got.append(entry.pk if entry else None)

    # when 8 sessions ask for the next record at once
    at_once(ask, 8)
    # then each got a different record
    assert None not in got and len(set(got)) == 8
    assert Entry.objects.filter(campaign=campaign, state=Entry.State.RESERVED).count() == 8


def test_next_record_of_another_companys_campaign_is_not_found(login, company, other_admin, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    # when an agent of another company asks for its next record
    response = login(other_admin).post(reverse("campaigns:work", args=[campaign.pk]))
    # then the campaign is not found and nothing is reserved
    assert response.status_code == 404
    assert not Entry.objects.filter(state=Entry.State.RESERVED).exists()


def test_next_record_of_a_paused_campaign_says_nothing_more(login, company, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    campaign_pause(campaign=campaign)
    # when Ava asks for her next record
    page = login(ava).post(reverse("campaigns:work", args=[campaign.pk]), follow=True)
    # then she is back on her queue's page with the message, and nothing is reserved
    assert page.redirect_chain[-1][0] == reverse("campaigns:work", args=[campaign.pk])
    assert b"Nothing more in your queue for now." in page.content
    assert not Entry.objects.filter(state=Entry.State.RESERVED).exists()


def test_sorting_by_the_agent_column_is_an_error_by_sort_1_and_the_form_keeps_its_input(
    login, company_admin, company, ava
):
    # given an admin on the new campaign form
    queue = queue_with(company, ava)
    seed = make_campaign(company, queue, [("ava@acme.test", "1")], name="Seed")
    client = login(company_admin)
    url = reverse("admin:campaigns_campaign_add") + f"?contact_list={seed.contact_list_id}"
    form = {"name": "New", "queue": queue.pk, "contact_list": seed.contact_list_id,
            "agent_column": "Agent", "sort_1": "Agent", "direction_1": "asc"}  # fmt: skip
    # when they save it sorted by the agent column
    page = client.post(url, form)
    # then the same form comes back (no redirect) with the error by Sort 1
    assert page.status_code == 200
    bound = page.context["adminform"].form
    assert bound.errors["sort_1"] == [
        "Records cannot be sorted by the agent column: each agent gets their own records in "
        "the order of the other columns."
    ]
    assert set(bound.errors) == {"sort_1"}
    # and name, queue and agent column are still filled in
    html = page.content.decode()
    assert 'name="name" value="New"' in html
    assert f'<option value="{queue.pk}" selected>' in html
    assert '<option value="Agent" selected>' in html
    assert not Campaign.objects.filter(name="New").exists()


@pytest.mark.parametrize("value", ["²", "x", "99999999999999999999"])
def test_a_new_campaign_for_a_list_that_names_no_id_is_a_blank_form(login, company_admin, value):
    url = reverse("admin:campaigns_campaign_add") + f"?contact_list={value}"
    assert login(company_admin).get(url).status_code == 200


def test_a_taken_campaign_name_is_an_error_by_the_name(login, company_admin, company, ava):
    queue = queue_with(company, ava)
    seed = make_campaign(company, queue, [("ava@acme.test", "1")], name="Seed")
    url = reverse("admin:campaigns_campaign_add")
    form = {"name": "Seed", "queue": queue.pk, "contact_list": seed.contact_list_id,
            "agent_column": "Agent", "sort_1": "Balance", "direction_1": "asc"}  # fmt: skip
    page = login(company_admin).post(url, form)
    assert page.status_code == 200
    errors = page.context["adminform"].form.errors
    assert errors["name"] == ["Another campaign already has this name."]


def test_the_error_page_lists_lines_in_order_with_readable_phones(login, company, supervisor, ava):
    # given three records in error, sorted by balance so the queue's order is 3, 4, 2
    queue = queue_with(company, ava)
    rows = [("bad@", "3"), ("bad@", "1"), ("bad@", "2"), ("ava@acme.test", "0")]
    campaign = make_campaign(company, queue, rows, sort=[["Balance", "asc"]])
    campaign_start(campaign=campaign)
    # when a supervisor opens the error page
    page = login(supervisor).get(reverse("campaigns:errors", args=[campaign.pk])).content.decode()
    # then the lines come in the file's order, the phones as people read them
    table = page[page.index('id="errors"') :]
    lines = re.findall(r'<tr><td class="num">(\d+)</td>', table)
    assert lines == ["2", "3", "4"]
    assert "+1 212-555-0100" in table and "+12125550100" not in table


def test_the_agent_owned_icon_is_an_inline_svg_not_an_emoji(login, company, company_admin, ava):
    queue = queue_with(company, ava)
    make_campaign(company, queue, [("ava@acme.test", "1")])
    client = login(company_admin)
    for url in (reverse("campaigns:list"), reverse("admin:campaigns_campaign_changelist")):
        page = client.get(url).content.decode()
        icon = page[page.index('class="agent-owned-icon"') :]
        assert icon.index("<svg") < icon.index("</a>")
        assert "\N{BUST IN SILHOUETTE}" not in page


def test_no_disposition_is_preselected_and_saving_without_one_is_refused(login, company, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2")])
    campaign_start(campaign=campaign)
    client = login(ava)
    url = client.post(reverse("campaigns:work", args=[campaign.pk])).url
    page = client.post(url, {"action": "call"}, follow=True).content.decode()
    # the dispositions start on the empty choice, and the field is required
    select = page[page.index('<select name="disposition"') :]
    select = select[: select.index("</select>")]
    assert "required" in select.split(">")[0]
    assert '<option value="" selected>— Pick a disposition —</option>' in select
    assert select.count("selected") == 1
    # when she saves without picking one
    refused = client.post(url, {"action": "disposition"})
    # then the page says so by the field and the record is still hers, called
    assert refused.status_code == 200
    assert "Pick a disposition before saving." in refused.content.decode()
    assert Entry.objects.filter(state=Entry.State.CALLED).count() == 1


def test_saving_a_disposition_confirms_it_and_names_the_next_record(login, company, ava):
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1"), ("ava@acme.test", "2")])
    campaign_start(campaign=campaign)
    client = login(ava)
    url = client.post(reverse("campaigns:work", args=[campaign.pk])).url
    client.post(url, {"action": "call"})
    disposition = Disposition.objects.get(center=queue, name="Promise to pay")
    # when she saves a disposition
    page = client.post(url, {"action": "disposition", "disposition": disposition.pk}, follow=True)
    # then the next record's page confirms what was saved, for whom, and what is next
    assert (
        '<li class="success">Saved: Promise to pay for Person 0. Next record: Person 1.</li>'
        in page.content.decode()
    )
    # and on the last record, that nothing more is queued
    client.post(page.redirect_chain[-1][0], {"action": "call"})
    last = client.post(
        page.redirect_chain[-1][0],
        {"action": "disposition", "disposition": disposition.pk},
        follow=True,
    )
    assert "Saved: Promise to pay for Person 1. Nothing more in your queue for now." in (
        last.content.decode()
    )


def test_the_preview_page_shows_the_records_phones_as_people_write_them(login, company, ava):
    # given a record of Ava's whose phone column is stored as E.164
    queue = queue_with(company, ava)
    campaign = make_campaign(company, queue, [("ava@acme.test", "1")])
    campaign_start(campaign=campaign)
    client = login(ava)
    # when she opens her next record
    response = client.post(reverse("campaigns:work", args=[campaign.pk]))
    page = client.get(response.url).content.decode()
    cells = page[page.index('id="record-cells"') : page.index("</dl>")]
    # then the phone cell reads as people write it, the other cells as they are
    assert "+1 212-555-0100" in cells and "+12125550100" not in cells
    assert "Person 0" in cells and "ava@acme.test" in cells
